// Package pinyin turns the Chinese text of a prompt into tone-numbered
// pinyin, the way the default recordings are made (espeak-ng's
// cmn-latn-pinyin voice) and the way `kefu prompts check` reads them
// again: go-pinyin's first reading of each character, the prompt's
// overrides ("重讲=chong2 jiang3") first, the neutral tone written 5,
// numbers in Chinese, punctuation as pauses, and the tone changes of 一
// and 不.
package pinyin

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// Syllable is one spoken unit of the pinyin text, or a pause (Py is "," or
// ".") made from punctuation.
type Syllable struct {
	Py  string // "bu4", "de5"; or "," / "." for a pause
	Src rune   // the character it was read from
	// Word is the override that gave the reading ("重讲"), or "" when the
	// reading is the dictionary's or a numeral's.
	Word string
	// Auto: the reading is the dictionary's first one (not an override,
	// not a numeral written in digits).
	Auto bool
	// Pos is the index, in runes, of Src in the text.
	Pos int
}

// Pause reports whether s is a pause.
func (s Syllable) Pause() bool { return s.Py == "," || s.Py == "." }

// Tone returns the tone digit of s ('1' to '5'), or 0 for a pause.
func (s Syllable) Tone() byte {
	if s.Pause() {
		return 0
	}
	return s.Py[len(s.Py)-1]
}

var (
	args = func() pinyin.Args {
		a := pinyin.NewArgs()
		a.Style = pinyin.Tone3
		return a
	}()
	heteronymArgs = func() pinyin.Args {
		a := args
		a.Heteronym = true
		return a
	}()
	reSyllable = regexp.MustCompile(`^[a-zv]+[1-5]$`)
)

// Valid reports whether py is one tone-numbered syllable, like zhong1 or de5.
func Valid(py string) bool { return reSyllable.MatchString(py) }

// pauses maps punctuation to the pause espeak-ng makes for it: a short one
// inside a sentence, a long one at its end.
var pauses = map[rune]string{
	',': ",", '，': ",", '、': ",", ';': ",", '；': ",", ':': ",", '：': ",",
	'.': ".", '。': ".", '!': ".", '！': ".", '?': ".", '？': ".", '…': ".",
}

// Convert turns Chinese text into tone-numbered pinyin for espeak-ng's
// cmn-latn-pinyin voice: every syllable carries a tone digit (5 for the
// neutral tone, which espeak-ng otherwise reads as tone 1), punctuation
// becomes pauses, numbers are read out in Chinese, and the tone changes of
// 一 and 不 are applied (espeak-ng does third-tone sandhi itself).
//
// overrides is the third column of the text file, "词=ci2;重讲=chong2
// jiang3": for each word, the syllables to use instead of the dictionary's
// first reading.
func Convert(text, overrides string) (string, error) {
	syls, err := Read(text, overrides)
	if err != nil {
		return "", err
	}
	return Join(syls), nil
}

// Join writes syllables as espeak-ng reads them: "wo3 men5, hao3.".
func Join(syls []Syllable) string {
	var b strings.Builder
	for i, s := range syls {
		if i > 0 && !s.Pause() {
			b.WriteByte(' ')
		}
		b.WriteString(s.Py)
	}
	return b.String()
}

// Read is Convert, syllable by syllable, each with where its reading came
// from.
func Read(text, overrides string) ([]Syllable, error) {
	ov, err := ParseOverrides(text, overrides)
	if err != nil {
		return nil, err
	}
	words := make([]string, 0, len(ov))
	for w := range ov {
		words = append(words, w)
	}
	// Longest first, so a longer override wins over one it contains.
	slices.SortFunc(words, func(a, b string) int { return len([]rune(b)) - len([]rune(a)) })

	runes := []rune(text)
	var syls []Syllable
next:
	for i := 0; i < len(runes); {
		for _, w := range words {
			wr := []rune(w)
			if len(runes)-i >= len(wr) && string(runes[i:i+len(wr)]) == w {
				for j, py := range ov[w] {
					syls = append(syls, Syllable{Py: py, Src: wr[j], Word: w, Pos: i + j})
				}
				i += len(wr)
				continue next
			}
		}
		r := runes[i]
		switch {
		case unicode.Is(unicode.Han, r):
			s, err := hanSyllable(r)
			if err != nil {
				return nil, err
			}
			s.Auto, s.Pos = true, i
			syls = append(syls, s)
			i++
		case r >= '0' && r <= '9':
			j := i
			for j < len(runes) && runes[j] >= '0' && runes[j] <= '9' {
				j++
			}
			for _, h := range NumberHan(string(runes[i:j])) {
				s, err := hanSyllable(h)
				if err != nil {
					return nil, err
				}
				s.Pos = i
				syls = append(syls, s)
			}
			i = j
		case pauses[r] != "":
			p := Syllable{Py: pauses[r], Src: r, Pos: i}
			switch {
			case len(syls) == 0:
			case syls[len(syls)-1].Pause():
				if p.Py == "." {
					syls[len(syls)-1] = p // the longer pause wins
				}
			default:
				syls = append(syls, p)
			}
			i++
		case unicode.IsSpace(r):
			i++
		default:
			return nil, fmt.Errorf("character %q at position %d has no reading: rewrite it in Chinese or add an override", r, i)
		}
	}
	sandhi(syls)
	return syls, nil
}

func hanSyllable(r rune) (Syllable, error) {
	p := pinyin.SinglePinyin(r, args)
	if len(p) == 0 || p[0] == "" {
		return Syllable{}, fmt.Errorf("no pinyin for %q: add an override", r)
	}
	return Syllable{Py: toneNumbered(p[0]), Src: r}, nil
}

func toneNumbered(py string) string {
	py = strings.ReplaceAll(py, "ü", "v")
	if c := py[len(py)-1]; c < '1' || c > '4' {
		py += "5" // neutral tone
	}
	return py
}

// Readings returns every reading the dictionary has for r, the first one
// (the one Convert uses) first: 重 → zhong4, chong2.
func Readings(r rune) []string {
	var out []string
	for _, p := range pinyin.SinglePinyin(r, heteronymArgs) {
		if p == "" {
			continue
		}
		if py := toneNumbered(p); !slices.Contains(out, py) {
			out = append(out, py)
		}
	}
	return out
}

// numerals are the characters of a number: 一 among them keeps its own
// tone (十一 shí yī, 第一 dì yī, 一二三).
const numerals = "零〇一二三四五六七八九十百千万两"

// sandhi applies the tone changes of 一 and 不 before another syllable:
// 不 becomes bu2 before a fourth tone; 一 becomes yi2 before a fourth tone
// and yi4 before any other, but keeps yi1 inside a number (十一, 一二三),
// as an ordinal (第一) and before a neutral tone (唯一的). A numeral 一
// written in digits changes only before 百 and 千 (100 一百 yì bǎi).
// Overridden syllables are left as they are.
func sandhi(syls []Syllable) {
	for i := range len(syls) - 1 {
		s, next := &syls[i], syls[i+1]
		if next.Pause() || s.Word != "" {
			continue
		}
		if !s.Auto {
			if s.Src == '一' && (next.Src == '百' || next.Src == '千') && !next.Auto && next.Word == "" {
				s.Py = "yi4"
			}
			continue
		}
		switch {
		case s.Src == '不' && s.Py == "bu4" && next.Tone() == '4':
			s.Py = "bu2"
		case s.Src != '一' || s.Py != "yi1":
		case strings.ContainsRune(numerals, next.Src) && next.Src != '百' && next.Src != '千' && next.Src != '万',
			i > 0 && !syls[i-1].Pause() && strings.ContainsRune(numerals+"第", syls[i-1].Src),
			next.Tone() == '5':
			// 十一, 一二, 第一, 唯一的: 一 keeps yi1.
		case next.Tone() == '4':
			s.Py = "yi2"
		default:
			s.Py = "yi4"
		}
	}
}

// ParseOverrides parses "词=ci2;重讲=chong2 jiang3", checking that each word
// occurs in text and has one valid syllable per character.
func ParseOverrides(text, s string) (map[string][]string, error) {
	out := map[string][]string{}
	for item := range strings.SplitSeq(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		word, pys, ok := strings.Cut(item, "=")
		word = strings.TrimSpace(word)
		syls := strings.Fields(pys)
		switch {
		case !ok || word == "":
			return nil, fmt.Errorf("override %q: want 词=ci2", item)
		case len([]rune(word)) != len(syls):
			return nil, fmt.Errorf("override %q: %d characters but %d syllables", item, len([]rune(word)), len(syls))
		case !strings.Contains(text, word):
			return nil, fmt.Errorf("override %q: %q does not occur in the text", item, word)
		}
		for _, py := range syls {
			if !Valid(py) {
				return nil, fmt.Errorf("override %q: %q is not a tone-numbered syllable like zhong1 or de5", item, py)
			}
		}
		out[word] = syls
	}
	return out, nil
}

// NumberHan writes a run of ASCII digits as Chinese numerals: 24 → 二十四,
// 105 → 一百零五. Runs of five digits or more, or with a leading zero (phone
// numbers, codes), are read digit by digit.
func NumberHan(digits string) string {
	const han = "零一二三四五六七八九"
	digit := func(c byte) string { return string([]rune(han)[c-'0']) }
	if len(digits) > 4 || (len(digits) > 1 && digits[0] == '0') {
		var b strings.Builder
		for i := range len(digits) {
			b.WriteString(digit(digits[i]))
		}
		return b.String()
	}
	units := []string{"", "十", "百", "千"}
	var b strings.Builder
	zero := false
	for i := range len(digits) {
		c, place := digits[i], len(digits)-1-i
		if c == '0' {
			zero = b.Len() > 0
			continue
		}
		if zero {
			b.WriteString("零")
			zero = false
		}
		if !(c == '1' && place == 1 && i == 0) { // 十二, not 一十二
			b.WriteString(digit(c))
		}
		b.WriteString(units[place])
	}
	if b.Len() == 0 {
		return "零"
	}
	return b.String()
}
