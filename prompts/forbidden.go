package prompts

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// The default forbidden-phrase lists (CS-FORBIDDEN), one file per
// language; all of them apply to every prompt set.
//
//go:embed forbidden/*.txt
var forbiddenFiles embed.FS

// ErrForbidden is wrapped by every lint error: a prompt text that contains
// a forbidden phrase.
var ErrForbidden = errors.New("forbidden phrase (CS-FORBIDDEN)")

// Forbidden is a list of service taboo phrases (服务忌语, CS-FORBIDDEN)
// that no prompt text may contain. It is immutable and safe for
// concurrent use.
//
// A list is text, one phrase per line; blank lines and lines starting with
// '#' are ignored. Matching:
//
//   - letters match regardless of case; a phrase that begins or ends with
//     an ASCII letter or digit matches whole words only ("hey" is not in
//     "they");
//   - punctuation and spaces in a phrase match any run of punctuation and
//     spaces in the text, or none: "你问我,我问谁" matches 你问我，我问谁 and
//     你问我我问谁;
//   - '*' matches 1 to 8 characters within a clause (no punctuation or
//     space): "你找*去" matches 你找客服部去;
//   - a leading '^' makes the phrase count only as an address: at the
//     start of the text or right after punctuation or a space. "^喂"
//     matches 喂,说话呀 and 您好,喂? but not 我们喂养 (a word starting
//     with 喂 at the start of a clause, such as 喂养, would still match).
type Forbidden struct {
	phrases []forbiddenPhrase
}

type forbiddenPhrase struct {
	text string // as written in the list
	re   *regexp.Regexp
}

var defaultForbidden = sync.OnceValues(func() (*Forbidden, error) {
	names, err := forbiddenFiles.ReadDir("forbidden")
	if err != nil {
		return nil, err
	}
	f := &Forbidden{}
	for _, n := range names {
		g, err := parseForbiddenFile(forbiddenFiles, "forbidden/"+n.Name())
		if err != nil {
			return nil, err
		}
		f = f.Merge(g)
	}
	return f, nil
})

func parseForbiddenFile(fsys embed.FS, name string) (*Forbidden, error) {
	r, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := ParseForbidden(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// DefaultForbidden returns the embedded default list: the phrases of
// CS-FORBIDDEN and of the "forbidden instead" lines of the other rules,
// and an English list in the same spirit.
func DefaultForbidden() *Forbidden {
	f, err := defaultForbidden()
	if err != nil {
		panic("prompts: embedded forbidden-phrase list: " + err.Error())
	}
	return f
}

// LoadForbidden reads an ops list (the syntax of Forbidden) and returns it
// merged with DefaultForbidden. Errors name the line.
func LoadForbidden(r io.Reader) (*Forbidden, error) {
	f, err := ParseForbidden(r)
	if err != nil {
		return nil, err
	}
	return DefaultForbidden().Merge(f), nil
}

// ParseForbidden reads a list in the syntax of Forbidden, on its own
// (without the defaults). Errors name the line.
func ParseForbidden(r io.Reader) (*Forbidden, error) {
	f := &Forbidden{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		re, err := compilePhrase(line)
		if err != nil {
			return nil, fmt.Errorf("prompts: forbidden phrases: line %d: %w", n, err)
		}
		f.phrases = append(f.phrases, forbiddenPhrase{line, re})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("prompts: forbidden phrases: %w", err)
	}
	return f, nil
}

// Separators between and around words: punctuation, spaces and symbols.
const sepClass = `[\p{P}\p{Z}\p{S}\s]`

// compilePhrase turns a phrase into a regular expression (see Forbidden).
func compilePhrase(p string) (*regexp.Regexp, error) {
	address := strings.HasPrefix(p, "^")
	body := []rune(strings.TrimSpace(strings.TrimPrefix(p, "^")))
	var b strings.Builder
	b.WriteString(`(?i)`)
	if address {
		b.WriteString(`(?:^|` + sepClass + `)`)
	}
	words := 0
	for i, r := range body {
		switch {
		case r == '*':
			b.WriteString(`[^\p{P}\p{Z}\s]{1,8}`)
		case isSep(r):
			if i == 0 || !isSep(body[i-1]) {
				b.WriteString(sepClass + `*`)
			}
		default:
			if i == 0 && isASCIIWord(r) {
				b.WriteString(`\b`)
			}
			b.WriteString(regexp.QuoteMeta(string(r)))
			if i == len(body)-1 && isASCIIWord(r) {
				b.WriteString(`\b`)
			}
			words++
		}
	}
	if words == 0 {
		return nil, fmt.Errorf("phrase %q has no words", p)
	}
	return regexp.Compile(b.String())
}

func isSep(r rune) bool {
	return r != '*' && (unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r))
}

func isASCIIWord(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
}

// Merge returns a list with the phrases of f followed by those of g that
// f does not have.
func (f *Forbidden) Merge(g *Forbidden) *Forbidden {
	out := &Forbidden{phrases: append([]forbiddenPhrase(nil), f.phrases...)}
	have := make(map[string]bool, len(f.phrases)+len(g.phrases))
	for _, p := range f.phrases {
		have[p.text] = true
	}
	for _, p := range g.phrases {
		if !have[p.text] {
			have[p.text] = true
			out.phrases = append(out.phrases, p)
		}
	}
	return out
}

// Len returns the number of phrases.
func (f *Forbidden) Len() int { return len(f.phrases) }

// Phrases returns the phrases as written in the list.
func (f *Forbidden) Phrases() []string {
	out := make([]string, len(f.phrases))
	for i, p := range f.phrases {
		out[i] = p.text
	}
	return out
}

// Find returns the phrases of the list that text contains, in list order,
// or nil.
func (f *Forbidden) Find(text string) []string {
	var out []string
	for _, p := range f.phrases {
		if p.re.MatchString(text) {
			out = append(out, p.text)
		}
	}
	return out
}

// LintError is a prompt text that contains a forbidden phrase. It wraps
// ErrForbidden.
type LintError struct {
	Lang, ID string // the prompt
	Text     string // its text
	Phrase   string // the phrase as written in the list
}

// Error names the prompt and the phrase.
func (e *LintError) Error() string {
	return fmt.Sprintf("prompts: %s/%s: %v %q in %q", e.Lang, e.ID, ErrForbidden, e.Phrase, e.Text)
}

// Unwrap returns ErrForbidden.
func (e *LintError) Unwrap() error { return ErrForbidden }

// Lint checks every prompt text of the catalog against list
// (DefaultForbidden when nil) and returns a *LintError for each phrase
// found, in prompt ID order; nil when the texts are clean.
func (c *Catalog) Lint(list *Forbidden) []error {
	if list == nil {
		list = DefaultForbidden()
	}
	var errs []error
	for _, id := range c.ids {
		p := c.prompts[id]
		for _, phrase := range list.Find(p.Text) {
			errs = append(errs, &LintError{Lang: c.lang, ID: id, Text: p.Text, Phrase: phrase})
		}
	}
	return errs
}
