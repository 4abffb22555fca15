// Package textfile parses the text file of a prompt set (prompts.txt):
// one prompt per line, "id<TAB>text[<TAB>pinyin overrides]". Blank lines
// and lines starting with '#' are ignored.
package textfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Name is the name of the text file in a prompt set's directory.
const Name = "prompts.txt"

// Entry is one prompt line.
type Entry struct {
	ID     string
	Text   string
	Pinyin string // optional pronunciation overrides, "词=ci2;..." (zh-CN only)
	Line   int    // 1-based line number in the file
}

// ErrSyntax is wrapped by every error about the content of the file.
var ErrSyntax = errors.New("syntax error")

// Parse reads a prompt text file. Errors name the line ("line 12: ...").
func Parse(r io.Reader) ([]Entry, error) {
	e, _, err := ParseFile(r)
	return e, err
}

// ParseFile reads a prompt text file and its variables: lines
// "#! name = value" give the values the recordings were made with (e.g.
// "#! company = 卓达社区网中心"), which fill the {name} placeholders of the
// texts.
func ParseFile(r io.Reader) ([]Entry, map[string]string, error) {
	var (
		out  []Entry
		vars = map[string]string{}
		seen = map[string]int{}
		sc   = bufio.NewScanner(r)
		n    int
	)
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF") // UTF-8 byte order mark
		}
		if v, ok := strings.CutPrefix(line, "#!"); ok {
			k, val, ok := strings.Cut(v, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, nil, fmt.Errorf("line %d: %w: want #! name = value", n, ErrSyntax)
			}
			vars[strings.TrimSpace(k)] = strings.TrimSpace(val)
			continue
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 || len(f) > 3 {
			return nil, nil, fmt.Errorf("line %d: %w: want id<TAB>text[<TAB>pinyin], got %d field(s)", n, ErrSyntax, len(f))
		}
		e := Entry{ID: strings.TrimSpace(f[0]), Text: strings.TrimSpace(f[1]), Line: n}
		if len(f) == 3 {
			e.Pinyin = strings.TrimSpace(f[2])
		}
		if err := CheckID(e.ID); err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", n, err)
		}
		if e.Text == "" {
			return nil, nil, fmt.Errorf("line %d: %w: prompt %q has no text", n, ErrSyntax, e.ID)
		}
		if prev, dup := seen[e.ID]; dup {
			return nil, nil, fmt.Errorf("line %d: %w: prompt %q already defined on line %d", n, ErrSyntax, e.ID, prev)
		}
		seen[e.ID] = n
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	return out, vars, nil
}

// CheckID reports whether id is a valid prompt ID: lower-case ASCII
// letters, digits, '.', '_' and '-', starting with a letter or digit.
// IDs double as file names, so nothing else is allowed.
func CheckID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty prompt id", ErrSyntax)
	}
	for i, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return fmt.Errorf("%w: prompt id %q: character %q not allowed (use a-z, 0-9, '.', '_', '-')", ErrSyntax, id, c)
		}
	}
	return nil
}

// Fill replaces each {name} of text with vars[name]; a placeholder with no
// value is dropped (e.g. {title} when the caller's title is unknown).
func Fill(text string, vars map[string]string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, "{")
		j := strings.Index(text, "}")
		if i < 0 || j < i {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		b.WriteString(vars[text[i+1:j]])
		text = text[j+1:]
	}
}
