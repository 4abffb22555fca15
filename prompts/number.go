package prompts

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/media"
)

// Reading numbers back (CS-SYSTEM-DOWN: 「与您确认一下,电话号码是……,对吗?」).
const (
	// PauseID is the ID of the silence Number puts between digit groups.
	PauseID = "pause"
	// GroupPause is how long that silence lasts; the digit recordings add
	// their own 100 ms of silence at each end.
	GroupPause = 300 * time.Millisecond
)

// pause is the silence between digit groups, shared by all catalogs.
var pause = NewPrompt(PauseID, "", "", make([]int16, int(GroupPause/media.FrameDur)*media.FrameSamples))

// ErrNumber is wrapped by the errors of Number about its input.
var ErrNumber = errors.New("not a phone number")

// Number returns the prompts that read a phone number back digit by digit:
// "digit.0" to "digit.9", where a zh catalog reads 1 as 幺 ("digit.yao",
// as is usual for numbers on the phone) if it has that prompt. Spaces and
// '-' in digits split it into groups, and a leading '+' is not read; an
// 11-digit number starting with 1 and written without separators (a
// mobile number) is grouped 3-4-4. Groups are separated by the PauseID
// prompt, GroupPause of silence.
//
// Errors wrap ErrNumber (a character other than those, or no digit) or
// ErrMissing (a digit prompt the catalog lacks). They never quote the
// number, which is personal information (CS-PRIVACY).
func (c *Catalog) Number(digits string) ([]*Prompt, error) {
	s := strings.TrimPrefix(strings.TrimSpace(digits), "+")
	var groups []string
	for g := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ' ' || r == '-' }) {
		groups = append(groups, g)
	}
	if len(groups) == 1 && len(s) == 11 && s[0] == '1' {
		groups = []string{s[:3], s[3:7], s[7:]}
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("prompts: reading a number back: %w: no digits", ErrNumber)
	}
	yao := false
	if strings.HasPrefix(c.lang, "zh") {
		_, yao = c.prompts["digit.yao"]
	}
	var out []*Prompt
	pos := 0
	for i, g := range groups {
		if i > 0 {
			out = append(out, pause)
		}
		for _, r := range g {
			pos++
			if r < '0' || r > '9' {
				return nil, fmt.Errorf("prompts: reading a number back: %w: character %d is not a digit", ErrNumber, pos)
			}
			id := "digit." + string(r)
			if r == '1' && yao {
				id = "digit.yao"
			}
			p, ok := c.prompts[id]
			if !ok {
				return nil, fmt.Errorf("prompts: %s: reading a number back: prompt %q: %w", c.lang, id, ErrMissing)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// Cardinal returns the prompts that say a count from 0 to 999 — a queue
// position, minutes of waiting — composed from the digit and unit
// recordings: 23 is 二 十 三 in zh (10–19 without the leading 一: 十五), and
// "two hundred three" style in en (digits with "hundred"; tens read as
// digits, e.g. 23 is "two three" — the en set has no tens words).
func (c *Catalog) Cardinal(n int) ([]*Prompt, error) {
	if n < 0 || n > 999 {
		return nil, fmt.Errorf("%w: a count from 0 to 999", ErrNumber)
	}
	var ids []string
	digit := func(d int) { ids = append(ids, fmt.Sprintf("digit.%d", d)) }
	h, t, u := n/100, n/10%10, n%10
	switch {
	case n == 0:
		digit(0)
	case c.lang == DefaultLang:
		if h > 0 {
			digit(h)
			ids = append(ids, "num.hundred")
		}
		switch {
		case t > 0:
			if h > 0 || t > 1 {
				digit(t)
			}
			ids = append(ids, "num.ten")
		case h > 0 && u > 0:
			digit(0) // 一百零五
		}
		if u > 0 {
			digit(u)
		}
	default:
		if h > 0 {
			digit(h)
			ids = append(ids, "num.hundred")
		}
		if t > 0 {
			digit(t)
		}
		if u > 0 || (t > 0 && u == 0) {
			digit(u)
		}
	}
	out := make([]*Prompt, 0, len(ids))
	for _, id := range ids {
		p, ok := c.prompts[id]
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrMissing, id)
		}
		out = append(out, p)
	}
	return out, nil
}
