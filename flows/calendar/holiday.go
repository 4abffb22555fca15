package calendar

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Holiday is a statutory holiday with its own opening (CS-GREET-HOLIDAY).
type Holiday uint8

// The holidays of CS-GREET-HOLIDAY.
const (
	None        Holiday = iota // an ordinary day
	NewYear                    // 除夕 and 春节 (Spring Festival): 新年好
	MidAutumn                  // 中秋节: 中秋快乐
	NationalDay                // 国庆节: 国庆节快乐
)

// Default spans of the computed holidays, used for a year without a
// notice for that holiday. Each holiday has at most one span a year.
const (
	// DefaultSpringFestivalDays is how many days of the new lunar year
	// greet as the New Year: lunar 1/1 to 1/7, as the statutory holiday
	// usually runs. 除夕, the day before, is always added.
	DefaultSpringFestivalDays = 7
	// DefaultMidAutumnDays is the length of 中秋 from lunar 8/15.
	DefaultMidAutumnDays = 1
	// DefaultNationalDayDays is the length of 国庆 from October 1.
	DefaultNationalDayDays = 7
	// MaxNoticeDays is the longest range a notice may give, a guard against
	// typing mistakes such as a wrong month.
	MaxNoticeDays = 31
)

// precedence decides the greeting on a day that belongs to more than one
// holiday: 中秋 falls within the National Day week in some years (2020,
// 2025, 2028) and, being the holiday of that very day, is greeted.
var precedence = [...]Holiday{MidAutumn, NationalDay, NewYear}

var holidayNames = [...]string{None: "none", NewYear: "newyear", MidAutumn: "midautumn", NationalDay: "nationalday"}

// Chinese names ParseHoliday also accepts.
var holidayAliases = map[string]Holiday{
	"春节": NewYear, "除夕": NewYear, "新年": NewYear,
	"中秋": MidAutumn, "中秋节": MidAutumn,
	"国庆": NationalDay, "国庆节": NationalDay,
}

// String names the holiday as its opening prompt's suffix: "newyear",
// "midautumn", "nationalday" (greet.newyear, ...); "none" for None.
func (h Holiday) String() string {
	if int(h) < len(holidayNames) {
		return holidayNames[h]
	}
	return fmt.Sprintf("Holiday(%d)", uint8(h))
}

// ParseHoliday parses a holiday's name: its String form, or a Chinese name
// (春节, 除夕, 中秋, 中秋节, 国庆, 国庆节).
func ParseHoliday(s string) (Holiday, error) {
	for h, name := range holidayNames {
		if h != int(None) && strings.EqualFold(s, name) {
			return Holiday(h), nil
		}
	}
	if h, ok := holidayAliases[s]; ok {
		return h, nil
	}
	return None, fmt.Errorf("calendar: unknown holiday %q (want newyear, midautumn or nationalday)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (h Holiday) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, with ParseHoliday.
func (h *Holiday) UnmarshalText(b []byte) error {
	v, err := ParseHoliday(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// Notice is the date range of one holiday in one year as the holiday
// notice gives it ("以每次节日通知为准"), e.g. 春节 2026: 2026-02-15 to
// 2026-02-23. Both ends are included. A year's notices for a holiday
// replace the computed range of that holiday in that year.
type Notice struct {
	Holiday Holiday `json:"holiday" yaml:"holiday"`
	From    Date    `json:"from" yaml:"from"`
	To      Date    `json:"to" yaml:"to"`
}

// String formats the notice as "newyear 2026-02-15..2026-02-23".
func (n Notice) String() string { return fmt.Sprintf("%v %v..%v", n.Holiday, n.From, n.To) }

func (n Notice) contains(d Date) bool { return n.From.Compare(d) <= 0 && d.Compare(n.To) <= 0 }

// Range is a holiday's date range in force for a year.
type Range struct {
	Notice
	// FromNotice is true for a range given by a notice, false for a
	// computed one.
	FromNotice bool
}

// ErrNotice is wrapped by every error about a notice.
var ErrNotice = errors.New("invalid holiday notice")

// Calendar decides the opening of a call (CS-GREET-*) for the moment it is
// answered, in the caller-facing time zone. It is immutable and safe for
// concurrent use.
type Calendar struct {
	loc     *time.Location
	notices map[noticeKey][]Notice
}

type noticeKey struct {
	h    Holiday
	year int
}

// DefaultLocation returns Asia/Shanghai, the default caller-facing zone,
// or a fixed UTC+8 zone named "CST" when the time zone database is not
// available (China has kept UTC+8 without daylight saving since 1992).
func DefaultLocation() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*60*60)
}

// New returns a calendar for the caller-facing zone loc (DefaultLocation
// when nil) with the holiday notices that ops configured. A notice must
// name a holiday, have valid dates with From ≤ To in one calendar year,
// span at most MaxNoticeDays, and not overlap another notice of the same
// holiday; notices of different holidays may overlap (中秋 within the
// National Day week), the day then greets the holiday that precedes:
// MidAutumn, then NationalDay, then NewYear. Errors name the notice (by
// its index and dates) and wrap ErrNotice; all problems are reported.
func New(loc *time.Location, notices []Notice) (*Calendar, error) {
	if loc == nil {
		loc = DefaultLocation()
	}
	c := &Calendar{loc: loc, notices: make(map[noticeKey][]Notice)}
	var errs []error
	for i, n := range notices {
		if err := checkNotice(n); err != nil {
			errs = append(errs, fmt.Errorf("calendar: notice %d (%v): %w", i+1, n, err))
			continue
		}
		k := noticeKey{n.Holiday, n.From.Year}
		for _, prev := range c.notices[k] {
			if prev.From.Compare(n.To) <= 0 && n.From.Compare(prev.To) <= 0 {
				errs = append(errs, fmt.Errorf("calendar: notice %d (%v): %w: overlaps notice %v of the same holiday",
					i+1, n, ErrNotice, prev))
			}
		}
		c.notices[k] = append(c.notices[k], n)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

func checkNotice(n Notice) error {
	switch {
	case n.Holiday == None || int(n.Holiday) >= len(holidayNames):
		return fmt.Errorf("%w: no holiday named (want newyear, midautumn or nationalday)", ErrNotice)
	case !n.From.Valid() || !n.To.Valid():
		return fmt.Errorf("%w: invalid date", ErrNotice)
	case n.From.Compare(n.To) > 0:
		return fmt.Errorf("%w: from %v is after to %v", ErrNotice, n.From, n.To)
	case n.From.Year != n.To.Year:
		return fmt.Errorf("%w: spans two years; give one notice per year", ErrNotice)
	case n.From.AddDays(MaxNoticeDays-1).Compare(n.To) < 0:
		return fmt.Errorf("%w: longer than %d days", ErrNotice, MaxNoticeDays)
	}
	return nil
}

// Location returns the caller-facing time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// HolidayAt returns the holiday of instant t's date in the caller-facing
// zone, or None.
func (c *Calendar) HolidayAt(t time.Time) Holiday {
	return c.HolidayOn(DateOf(t.In(c.loc)))
}

// HolidayOn returns the holiday of date d, or None.
func (c *Calendar) HolidayOn(d Date) Holiday {
	for _, h := range precedence {
		if ns, ok := c.notices[noticeKey{h, d.Year}]; ok {
			if slices.ContainsFunc(ns, func(n Notice) bool { return n.contains(d) }) {
				return h
			}
			continue
		}
		if n, ok := computed(h, d.Year); ok && n.contains(d) {
			return h
		}
	}
	return None
}

// Ranges returns the holiday ranges in force in year: each holiday's
// notices if ops gave any for that year, else its computed range (none
// for the lunar holidays outside 1900–2100). They are sorted by date.
func (c *Calendar) Ranges(year int) []Range {
	var out []Range
	for _, h := range []Holiday{NewYear, MidAutumn, NationalDay} {
		if ns, ok := c.notices[noticeKey{h, year}]; ok {
			for _, n := range ns {
				out = append(out, Range{Notice: n, FromNotice: true})
			}
		} else if n, ok := computed(h, year); ok {
			out = append(out, Range{Notice: n})
		}
	}
	slices.SortFunc(out, func(a, b Range) int { return a.From.Compare(b.From) })
	return out
}

// computed returns the default range of holiday h in Gregorian year y.
func computed(h Holiday, y int) (Notice, bool) {
	switch h {
	case NationalDay:
		from := Date{y, time.October, 1}
		return Notice{h, from, from.AddDays(DefaultNationalDayDays - 1)}, true
	case NewYear:
		l, ok := lunarYear(y)
		// 除夕, the last day of the old year, to lunar 1/7.
		return Notice{h, l.springFestival.AddDays(-1), l.springFestival.AddDays(DefaultSpringFestivalDays - 1)}, ok
	case MidAutumn:
		l, ok := lunarYear(y)
		return Notice{h, l.midAutumn, l.midAutumn.AddDays(DefaultMidAutumnDays - 1)}, ok
	}
	return Notice{}, false
}
