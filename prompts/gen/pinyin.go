package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// syllable is one spoken unit of the pinyin text, or a pause (py is "," or
// ".") from punctuation.
type syllable struct {
	py   string // "bu4", "de5"; or "," / "." for a pause
	src  rune   // the character it was read from
	auto bool   // from the dictionary (not an override, not a numeral): tone sandhi applies
}

func (s syllable) pause() bool { return s.py == "," || s.py == "." }

func (s syllable) tone() byte {
	if s.pause() {
		return 0
	}
	return s.py[len(s.py)-1]
}

var (
	pinyinArgs = func() pinyin.Args {
		a := pinyin.NewArgs()
		a.Style = pinyin.Tone3
		return a
	}()
	reSyllable = regexp.MustCompile(`^[a-zv]+[1-5]$`)
)

// pauses maps punctuation to the pause espeak-ng makes for it: a short one
// inside a sentence, a long one at its end.
var pauses = map[rune]string{
	',': ",", '，': ",", '、': ",", ';': ",", '；': ",", ':': ",", '：': ",",
	'.': ".", '。': ".", '!': ".", '！': ".", '?': ".", '？': ".", '…': ".",
}

// toPinyin turns Chinese text into tone-numbered pinyin for espeak-ng's
// cmn-latn-pinyin voice: every syllable carries a tone digit (5 for the
// neutral tone, which espeak-ng otherwise reads as tone 1), punctuation
// becomes pauses, numbers are read out in Chinese, and the tone sandhi of
// 一 and 不 is applied (espeak-ng does third-tone sandhi itself).
//
// overrides is the third column of the text file, "词=ci2;重讲=chong2
// jiang3": for each word, the syllables to use instead of the dictionary's
// first reading.
func toPinyin(text, overrides string) (string, error) {
	ov, err := parseOverrides(text, overrides)
	if err != nil {
		return "", err
	}
	words := make([]string, 0, len(ov))
	for w := range ov {
		words = append(words, w)
	}
	// Longest first, so a longer override wins over one it contains.
	slices.SortFunc(words, func(a, b string) int { return len([]rune(b)) - len([]rune(a)) })

	runes := []rune(text)
	var syls []syllable
next:
	for i := 0; i < len(runes); {
		for _, w := range words {
			wr := []rune(w)
			if len(runes)-i >= len(wr) && string(runes[i:i+len(wr)]) == w {
				for j, py := range ov[w] {
					syls = append(syls, syllable{py: py, src: wr[j]})
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
				return "", err
			}
			s.auto = true
			syls = append(syls, s)
			i++
		case r >= '0' && r <= '9':
			j := i
			for j < len(runes) && runes[j] >= '0' && runes[j] <= '9' {
				j++
			}
			for _, h := range numberHan(string(runes[i:j])) {
				s, err := hanSyllable(h)
				if err != nil {
					return "", err
				}
				syls = append(syls, s)
			}
			i = j
		case pauses[r] != "":
			p := syllable{py: pauses[r], src: r}
			switch {
			case len(syls) == 0:
			case syls[len(syls)-1].pause():
				if p.py == "." {
					syls[len(syls)-1] = p // the longer pause wins
				}
			default:
				syls = append(syls, p)
			}
			i++
		case unicode.IsSpace(r):
			i++
		default:
			return "", fmt.Errorf("character %q at position %d has no reading: rewrite it in Chinese or add an override", r, i)
		}
	}
	sandhi(syls)

	var b strings.Builder
	for i, s := range syls {
		if i > 0 && !s.pause() {
			b.WriteByte(' ')
		}
		b.WriteString(s.py)
	}
	return b.String(), nil
}

func hanSyllable(r rune) (syllable, error) {
	p := pinyin.SinglePinyin(r, pinyinArgs)
	if len(p) == 0 || p[0] == "" {
		return syllable{}, fmt.Errorf("no pinyin for %q: add an override", r)
	}
	py := strings.ReplaceAll(p[0], "ü", "v")
	if c := py[len(py)-1]; c < '1' || c > '4' {
		py += "5" // neutral tone
	}
	return syllable{py: py, src: r}, nil
}

// sandhi applies the tone changes of 一 and 不 before another syllable:
// 不 becomes bu2 before a fourth tone; 一 becomes yi2 before a fourth tone
// and yi4 before any other. Overridden and numeral syllables are left as
// they are.
func sandhi(syls []syllable) {
	for i := range len(syls) - 1 {
		s, next := &syls[i], syls[i+1]
		if !s.auto || next.pause() {
			continue
		}
		switch {
		case s.src == '不' && s.py == "bu4" && next.tone() == '4':
			s.py = "bu2"
		case s.src == '一' && s.py == "yi1" && next.tone() == '4':
			s.py = "yi2"
		case s.src == '一' && s.py == "yi1":
			s.py = "yi4"
		}
	}
}

// parseOverrides parses "词=ci2;重讲=chong2 jiang3", checking that each word
// occurs in text and has one valid syllable per character.
func parseOverrides(text, s string) (map[string][]string, error) {
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
			if !reSyllable.MatchString(py) {
				return nil, fmt.Errorf("override %q: %q is not a tone-numbered syllable like zhong1 or de5", item, py)
			}
		}
		out[word] = syls
	}
	return out, nil
}

// numberHan writes a run of ASCII digits as Chinese numerals: 24 → 二十四,
// 105 → 一百零五. Runs of five digits or more, or with a leading zero (phone
// numbers, codes), are read digit by digit.
func numberHan(digits string) string {
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
