package prompts

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/kefu-hotline/kefu/prompts/internal/pinyin"
	"github.com/kefu-hotline/kefu/prompts/internal/textfile"
)

// ErrSpeech is wrapped by every error of CheckSpeech: a prompt that may
// not read as a Chinese agent would say it (CS-SPEECH).
var ErrSpeech = errors.New("reads wrongly (CS-SPEECH)")

// SpeechError is one problem CheckSpeech found in a prompt.
type SpeechError struct {
	Lang, ID string
	Msg      string
	// Reading: the problem is in how the generator would read the text
	// (pinyin), which matters for a set made by prompts/gen, not for one
	// recorded by people.
	Reading bool
}

// Error names the prompt and the problem.
func (e *SpeechError) Error() string {
	return fmt.Sprintf("prompts: %s/%s: %v: %s", e.Lang, e.ID, ErrSpeech, e.Msg)
}

// Unwrap returns ErrSpeech.
func (e *SpeechError) Unwrap() error { return ErrSpeech }

// Polyphones are the characters with more than one reading in common use
// in customer-service text (多音字). A prompt that has one of them outside
// a pinyin override is read with the dictionary's first reading, which is
// often the wrong one (重新 is chóngxīn, not zhòngxīn), so CheckSpeech asks
// for an override that says which reading is meant.
const Polyphones = "重行长还为调了得地的着好处种数号便应相传差朝乐量血发参空正没只都少尽教结间背曾几分划假更难" +
	"给将转当供要觉系答载强切称兴场单卡会约折省和奇冲缝率担累"

// polyphones is Polyphones as a set.
var polyphones = func() map[rune]bool {
	m := map[rune]bool{}
	for _, r := range Polyphones {
		m[r] = true
	}
	return m
}()

// CheckSpeech checks what the default recordings are made from (see
// prompts/README.md) and what the texts say, for each prompt (CS-SPEECH):
//
//   - zh sets: the text (with the set's {company}) is turned into pinyin
//     again as the generator does (go-pinyin, the third column's overrides,
//     the tone changes of 一 and 不); an invalid override or a character
//     without a reading is an error, and so is a character of Polyphones
//     whose reading no override decides;
//   - every set: {company} must not double a word the text already has
//     (「这里是{company}客服中心」 with 卓达社区网中心 says 中心 twice).
//
// It returns nil when every prompt passes.
func (c *Catalog) CheckSpeech() []error {
	var errs []error
	for _, id := range c.ids {
		p := c.prompts[id]
		report := func(reading bool, format string, args ...any) {
			errs = append(errs, &SpeechError{Lang: c.lang, ID: id, Msg: fmt.Sprintf(format, args...), Reading: reading})
		}
		if msg := c.doubled(p.Text); msg != "" {
			report(false, "%s", msg)
		}
		if !strings.HasPrefix(c.lang, "zh") {
			continue
		}
		text := textfile.Fill(p.Text, c.vars)
		syls, err := pinyin.Read(text, c.pinyin[id])
		if err != nil {
			report(true, "%v", err)
			continue
		}
		runes := []rune(text)
		for i, s := range syls {
			if !s.Auto || !polyphones[s.Src] {
				continue
			}
			lo, hi := max(s.Pos-2, 0), min(s.Pos+3, len(runes))
			report(true, "%c in 「%s」 would be read %s (readings: %s): say which in the pinyin column, e.g. %s",
				s.Src, string(runes[lo:hi]), s.Py, strings.Join(pinyin.Readings(s.Src), ", "), example(syls, i))
		}
	}
	return errs
}

// example suggests an override for the polyphone syls[i]: the word of
// two characters it begins or ends, read as the generator reads it.
func example(syls []pinyin.Syllable, i int) string {
	near := func(j int) bool {
		return j >= 0 && j < len(syls) && !syls[j].Pause() && unicode.Is(unicode.Han, syls[j].Src) &&
			syls[j].Pos-syls[i].Pos == j-i
	}
	lo, hi := i, i+1
	if near(i + 1) {
		hi++
	} else if near(i - 1) {
		lo--
	}
	var w, py []string
	for _, s := range syls[lo:hi] {
		w, py = append(w, string(s.Src)), append(py, s.Py)
	}
	return strings.Join(w, "") + "=" + strings.Join(py, " ")
}

var reWord = regexp.MustCompile(`[\p{L}\p{N}]+`)

// doubled reports a word of the set's {company} that the clause around
// the placeholder says again: two Chinese characters in a row for Chinese,
// a word of four letters or more otherwise.
func (c *Catalog) doubled(text string) string {
	company := c.vars[VarCompany]
	ph := "{" + VarCompany + "}"
	if company == "" || !strings.Contains(text, ph) {
		return ""
	}
	var rest string
	for clause := range strings.FieldsFuncSeq(text, func(r rune) bool { return unicode.IsPunct(r) && r != '{' && r != '}' }) {
		if strings.Contains(clause, ph) {
			rest += strings.ReplaceAll(clause, ph, "|") + "|"
		}
	}
	var words []string
	for _, w := range reWord.FindAllString(company, -1) {
		r := []rune(w)
		if unicode.Is(unicode.Han, r[0]) {
			for i := 0; i+2 <= len(r); i++ {
				words = append(words, string(r[i:i+2]))
			}
		} else if len(r) >= 4 {
			words = append(words, w)
		}
	}
	for _, w := range words {
		if unicode.Is(unicode.Han, []rune(w)[0]) {
			if strings.Contains(rest, w) {
				return fmt.Sprintf("{company} (%s) and the text both say %s: write the text for the name", company, w)
			}
			continue
		}
		if slices.ContainsFunc(reWord.FindAllString(rest, -1), func(x string) bool { return strings.EqualFold(x, w) }) {
			return fmt.Sprintf("{company} (%s) and the text both say %q: write the text for the name", company, w)
		}
	}
	return ""
}
