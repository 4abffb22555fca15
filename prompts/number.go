package prompts

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/prompts/internal/pinyin"
	"github.com/kefu-hotline/kefu/prompts/internal/textfile"
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
// '-' in digits split it into groups, and a leading '+' is not read. A
// number written without separators is grouped as it is said on the
// phone (CS-SYSTEM-DOWN): a mobile number (11 digits starting with 1)
// 3-4-4; a landline with its area code (starting with 0) as the area code
// — 3 digits for 010 and 02x, 4 for the others — then groups of 4 from the
// left (010 6552 1234, 0755 8888 1234, 0571 8888 123); a local landline
// of 8 digits 4-4. Groups are separated by the PauseID prompt, GroupPause
// of silence.
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
	if len(groups) == 1 {
		groups = phoneGroups(groups[0])
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

// phoneGroups splits a number written without separators the way it is
// said on the phone; see Number.
func phoneGroups(s string) []string {
	fours := func(s string) []string {
		var out []string
		for len(s) > 4 {
			out, s = append(out, s[:4]), s[4:]
		}
		return append(out, s)
	}
	switch {
	case len(s) == 11 && s[0] == '1': // mobile
		return []string{s[:3], s[3:7], s[7:]}
	case len(s) > 4 && s[0] == '0': // area code, then the local number
		area := 4
		if s[1] == '1' || s[1] == '2' { // 010, 020-029
			area = 3
		}
		return append([]string{s[:area]}, fours(s[area:])...)
	case len(s) == 8: // a local landline
		return fours(s)
	}
	return []string{s}
}

// Cardinal returns the prompts that say a number from 0 to 999 — a queue
// position, minutes of waiting — composed from the digit and unit
// recordings: 23 is 二 十 三 in zh (10–19 without the leading 一: 十五; 一百
// with the tone change, num.yi4, when the set has it), and "two hundred
// three" style in en (digits with "hundred"; tens read as digits, e.g. 23
// is "two three" — the en set has no tens words). To say a count of
// something (两位, 一分钟), use Count.
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
			if h == 1 && c.has(numYi4) {
				ids[len(ids)-1] = numYi4 // 一百 yì bǎi
			}
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

// The count pieces of a zh set (CS-SPEECH): 一 with its tone change before
// the unit, and 两.
const (
	numYi2   = "num.yi2" // 一 yí, before a fourth tone: 一位
	numYi4   = "num.yi4" // 一 yì, before the other tones: 一分钟, 一百
	numLiang = "num.liang"
)

func (c *Catalog) has(id string) bool {
	_, ok := c.prompts[id]
	return ok
}

// Count returns the prompts that say n (0 to 999) as a count of the
// prompt unit, which the caller plays after them: 您前面还有「两」位,
// 预计等待时间「一」分钟. It is Cardinal(n), except that in a zh set that has
// the count pieces a count of 2 is 两 (num.liang: 两位, 两分钟) and a count
// of 1 takes the tone change of 一 before the unit's first syllable:
// num.yi2 before a fourth tone (一位 yí wèi; a neutral tone counts as the
// fourth, as in 一个 yí ge), num.yi4 before the others (一分钟 yì fēnzhōng).
// The unit's reading comes from its text and pinyin overrides, as the
// recordings are made (see prompts/README.md). Without those pieces the
// digits are used.
//
// Errors wrap ErrNumber (n out of range) or ErrMissing (a piece, or the
// unit, the catalog lacks).
func (c *Catalog) Count(n int, unit string) ([]*Prompt, error) {
	ps, err := c.Cardinal(n)
	if err != nil || !strings.HasPrefix(c.lang, "zh") {
		return ps, err
	}
	u, ok := c.prompts[unit]
	if !ok {
		return nil, fmt.Errorf("prompts: %s: counting: unit %q: %w", c.lang, unit, ErrMissing)
	}
	id := ""
	switch n {
	case 1:
		id = numYi4
		if t := c.firstTone(u); t == '4' || t == '5' {
			id = numYi2
		}
	case 2:
		id = numLiang
	}
	if p, ok := c.prompts[id]; ok {
		return []*Prompt{p}, nil
	}
	return ps, nil
}

// Unit returns the ID of unit's prompt for a count of n: unit.one when n
// is 1 and the set has it (English: one minute, two minutes), else unit.
// Sets without singular forms (a Chinese unit has none) leave it out.
func (c *Catalog) Unit(n int, unit string) string {
	if n == 1 {
		if _, ok := c.prompts[unit+".one"]; ok {
			return unit + ".one"
		}
	}
	return unit
}

// firstTone returns the tone of the first syllable of p's text, '1' to
// '5', or 0 if it has none.
func (c *Catalog) firstTone(p *Prompt) byte {
	syls, err := pinyin.Read(textfile.Fill(p.Text, c.vars), c.pinyin[p.ID])
	if err != nil {
		return 0
	}
	for _, s := range syls {
		if !s.Pause() {
			return s.Tone()
		}
	}
	return 0
}
