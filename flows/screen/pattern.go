package screen

import (
	"fmt"
	"strings"

	"github.com/kefu-hotline/kefu/flows/callerid"
)

// Nuisance list patterns are numbers, not regular expressions:
//
//   - "13812345678" or "+8613812345678": exactly this caller number;
//   - "400*": every number that starts with 400 (a trailing '*' only).
//
// Digits with an optional leading '+', at most MaxPatternDigits of them;
// spaces and '-' typed as separators are dropped. A prefix needs at least
// MinPrefixDigits digits, so one mistyped entry cannot turn away every
// mobile caller. When several entries match a call, the exact number wins,
// then the longest prefix.
//
// Why not regular expressions: a call is matched with one indexed lookup
// of its at most 33 candidate patterns (the number and each of its
// prefixes), however long the list; ops can read and validate an entry at a
// glance; and the same rows work unchanged on PostgreSQL. Flows still have
// regular expressions on the caller number in `branch` cases for anything
// cleverer.
const (
	MinPrefixDigits  = 3
	MaxPatternDigits = 32
)

// ParsePattern checks a nuisance-list pattern and returns it in its stored
// form (separators dropped). Its errors wrap ErrInvalid and show the pattern
// masked.
func ParsePattern(s string) (string, error) {
	p := dropSeparators(s)
	if p == "" {
		return "", invalid("pattern", "empty: give a number such as 13812345678, or a prefix such as 400*")
	}
	body, prefix := strings.CutSuffix(p, "*")
	digits, ok := numberDigits(body)
	switch {
	case !ok:
		return "", invalidPattern(s, "only digits, an optional leading '+' and an optional trailing '*' (prefix); regular expressions are not patterns")
	case digits > MaxPatternDigits:
		return "", invalidPattern(s, fmt.Sprintf("more than %d digits", MaxPatternDigits))
	case prefix && digits < MinPrefixDigits:
		return "", invalidPattern(s, fmt.Sprintf("a prefix needs at least %d digits, or it would match too many callers", MinPrefixDigits))
	}
	// Stored in the form callers are matched in (callerid.Normalize), so
	// "+8613812345678" and "13812345678" are one entry.
	if prefix {
		p = callerid.NormalizePrefix(body)
		if d, _ := numberDigits(p); d < MinPrefixDigits {
			return "", invalidPattern(s, fmt.Sprintf("a prefix needs at least %d digits after the country code, or it would match too many callers", MinPrefixDigits))
		}
		return p + "*", nil
	}
	return callerid.Normalize(body), nil
}

// candidates returns the patterns that would match number: the number
// itself, then its prefixes with '*' from the longest (the number itself
// followed by '*') to the shortest allowed. A number that is not a number
// (a SIP user name, say) matches nothing.
func candidates(number string) []string {
	n := callerid.Normalize(dropSeparators(number))
	digits, ok := numberDigits(n)
	if !ok || digits > MaxPatternDigits {
		return nil
	}
	lead := len(n) - digits // 1 with a '+', else 0
	out := make([]string, 0, digits-MinPrefixDigits+2)
	out = append(out, n)
	for end := len(n); end-lead >= MinPrefixDigits; end-- {
		out = append(out, n[:end]+"*")
	}
	return out
}

// better reports whether pattern a is a more specific match than b: an
// exact number beats any prefix, a longer prefix a shorter one.
func better(a, b string) bool {
	ae, be := !strings.HasSuffix(a, "*"), !strings.HasSuffix(b, "*")
	if ae != be {
		return ae
	}
	return len(a) > len(b)
}

// numberDigits counts the digits of s, which must be digits after an
// optional '+'; ok is false for anything else, and for no digits at all.
func numberDigits(s string) (n int, ok bool) {
	s = strings.TrimPrefix(s, "+")
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	return len(s), s != ""
}

// dropSeparators removes the spaces and '-' people type inside numbers.
func dropSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// MaskPattern masks a list pattern like a number, keeping a prefix's '*'
// so the log still shows it was one.
func MaskPattern(p string) string {
	if body, ok := strings.CutSuffix(p, "*"); ok {
		return callerid.Mask(body) + "*"
	}
	return callerid.Mask(p)
}

// ValidationError is a bad value given to the Manager or to New; it wraps
// ErrInvalid. Field names the JSON field at fault.
type ValidationError struct {
	Field string `json:"field"`
	Msg   string `json:"error"`
	// Pattern is the pattern given, as typed, when Field is "pattern":
	// Error shows it masked, for logs; Echo shows it to the operator who
	// typed it.
	Pattern string `json:"-"`
}

// Error returns "field: message", the pattern masked.
func (e *ValidationError) Error() string {
	return e.format(func(p string) string { return MaskPattern(dropSeparators(p)) })
}

// Echo is Error with the pattern as it was typed: for the operator's own
// screen (the API's answer, the CLI), never for a log.
func (e *ValidationError) Echo() string { return e.format(func(p string) string { return p }) }

func (e *ValidationError) format(show func(string) string) string {
	if e.Pattern == "" {
		return e.Field + ": " + e.Msg
	}
	return fmt.Sprintf("%s: %q: %s", e.Field, show(e.Pattern), e.Msg)
}

func invalidPattern(typed, msg string) error {
	return &ValidationError{Field: "pattern", Msg: msg, Pattern: typed}
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(field, msg string) error { return &ValidationError{Field: field, Msg: msg} }
