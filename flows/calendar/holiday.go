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

// The holidays of CS-GREET-HOLIDAY. 清明节 is a statutory holiday too, but
// has no greeting (快乐 is out of place on a day of mourning): the
// time-of-day opening stands, so it is not among them.
const (
	None        Holiday = iota // an ordinary day
	NewYear                    // 除夕 and 春节 (Spring Festival): 新年好
	MidAutumn                  // 中秋节: 中秋快乐
	NationalDay                // 国庆节: 国庆节快乐
	NewYearDay                 // 元旦 (January 1): 新年好
	LabourDay                  // 劳动节 (May 1 and the following days): 节日快乐
	DragonBoat                 // 端午节 (lunar 5/5): 端午节快乐
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
	// DefaultNewYearDayDays is the length of 元旦 from January 1.
	DefaultNewYearDayDays = 1
	// DefaultLabourDayDays is the length of 劳动节 from May 1, as the
	// statutory holiday has usually run (05-01 to 05-05).
	DefaultLabourDayDays = 5
	// DefaultDragonBoatDays is the length of 端午 from lunar 5/5.
	DefaultDragonBoatDays = 1
	// MaxNoticeDays is the longest range a notice may give, a guard against
	// typing mistakes such as a wrong month.
	MaxNoticeDays = 31
)

// precedence decides the greeting on a day that belongs to more than one
// holiday: 中秋 falls within the National Day week in some years (2020,
// 2025, 2028) and, being the holiday of that very day, is greeted; so are
// 端午 and 元旦 before the longer holidays a notice might join them to.
var precedence = [...]Holiday{MidAutumn, DragonBoat, NewYearDay, NationalDay, LabourDay, NewYear}

// holidays are the holidays in the order of the year's calendar, for Ranges.
var holidays = [...]Holiday{NewYearDay, NewYear, LabourDay, DragonBoat, MidAutumn, NationalDay}

var holidayNames = [...]string{
	None: "none", NewYear: "newyear", MidAutumn: "midautumn", NationalDay: "nationalday",
	NewYearDay: "newyearday", LabourDay: "labourday", DragonBoat: "dragonboat",
}

// Other names ParseHoliday accepts, Chinese first, in the order HolidayNames
// lists them.
var holidayAliases = []struct {
	name string
	h    Holiday
}{
	{"春节", NewYear}, {"除夕", NewYear}, {"中秋", MidAutumn}, {"中秋节", MidAutumn},
	{"国庆", NationalDay}, {"国庆节", NationalDay}, {"新年", NewYear},
	{"元旦", NewYearDay}, {"劳动节", LabourDay}, {"五一", LabourDay}, {"端午", DragonBoat}, {"端午节", DragonBoat},
	{"laborday", LabourDay},
}

// noGreeting are names of statutory holidays that have no greeting: a
// notice or branch case naming one is a mistake worth explaining.
var noGreeting = []string{"qingming", "清明", "清明节"}

// HolidayNames returns every name ParseHoliday accepts: the String forms
// (newyear, midautumn, nationalday, newyearday, labourday, dragonboat),
// then the Chinese names (春节, 除夕, 中秋, 中秋节, 国庆, 国庆节, 新年, 元旦,
// 劳动节, 五一, 端午, 端午节) and laborday.
func HolidayNames() []string {
	out := slices.Clone(holidayNames[1:])
	for _, a := range holidayAliases {
		out = append(out, a.name)
	}
	return out
}

// wantNames is the list of holiday names for error messages.
func wantNames() string {
	names := holidayNames[1:]
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// String names the holiday as its opening prompt's suffix: "newyear",
// "midautumn", "nationalday", "newyearday", "labourday", "dragonboat"
// (greet.newyear, ...); "none" for None.
func (h Holiday) String() string {
	if int(h) < len(holidayNames) {
		return holidayNames[h]
	}
	return fmt.Sprintf("Holiday(%d)", uint8(h))
}

// ParseHoliday parses a holiday's name: its String form, or one of the
// other names of HolidayNames (春节, 元旦, 端午, ...). 清明 is refused with
// the reason: it has no greeting.
func ParseHoliday(s string) (Holiday, error) {
	for h, name := range holidayNames {
		if h != int(None) && strings.EqualFold(s, name) {
			return Holiday(h), nil
		}
	}
	for _, a := range holidayAliases {
		if strings.EqualFold(s, a.name) {
			return a.h, nil
		}
	}
	if slices.ContainsFunc(noGreeting, func(n string) bool { return strings.EqualFold(s, n) }) {
		return None, fmt.Errorf("calendar: %q has no holiday greeting (CS-GREET-HOLIDAY: 快乐 is out of place on 清明, the time-of-day opening stands)", s)
	}
	return None, fmt.Errorf("calendar: unknown holiday %q (want %s)", s, wantNames())
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
// replace the computed range of that holiday in that year. A notice of
// 元旦 may begin in December (元旦 2024: 2023-12-30 to 2024-01-01): it is
// the notice of the year it ends in.
type Notice struct {
	Holiday Holiday `json:"holiday" yaml:"holiday"`
	From    Date    `json:"from" yaml:"from"`
	To      Date    `json:"to" yaml:"to"`
}

// String formats the notice as "newyear 2026-02-15..2026-02-23".
func (n Notice) String() string { return fmt.Sprintf("%v %v..%v", n.Holiday, n.From, n.To) }

func (n Notice) contains(d Date) bool { return n.From.Compare(d) <= 0 && d.Compare(n.To) <= 0 }

// year is the year whose holiday the notice gives: the year it ends in.
func (n Notice) year() int { return n.To.Year }

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
// name a holiday, have valid dates with From ≤ To in one calendar year
// (a notice of 元旦 may begin in the December before), span at most
// MaxNoticeDays, and not overlap another notice of the same holiday;
// notices of different holidays may overlap (中秋 within the National Day
// week), the day then greets the holiday that precedes: MidAutumn,
// DragonBoat, NewYearDay, NationalDay, LabourDay, then NewYear. Errors name the notice (by
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
		k := noticeKey{n.Holiday, n.year()}
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
		return fmt.Errorf("%w: no holiday named (want %s)", ErrNotice, wantNames())
	case !n.From.Valid() || !n.To.Valid():
		return fmt.Errorf("%w: invalid date", ErrNotice)
	case n.From.Compare(n.To) > 0:
		return fmt.Errorf("%w: from %v is after to %v", ErrNotice, n.From, n.To)
	case n.From.Year != n.To.Year && !(n.Holiday == NewYearDay && n.From.Year+1 == n.To.Year):
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
		if c.during(h, d.Year, d) || (h == NewYearDay && d.Month == time.December && c.during(h, d.Year+1, d)) {
			return h
		}
	}
	return None
}

// during reports whether d is within the range of holiday h of year y:
// its notices for that year if ops gave any, else its computed range.
func (c *Calendar) during(h Holiday, y int, d Date) bool {
	if ns, ok := c.notices[noticeKey{h, y}]; ok {
		return slices.ContainsFunc(ns, func(n Notice) bool { return n.contains(d) })
	}
	n, ok := computed(h, y)
	return ok && n.contains(d)
}

// Ranges returns the holiday ranges in force in year: each holiday's
// notices if ops gave any for that year, else its computed range (none
// for the lunar holidays outside 1900–2100); a notice of 元旦 that begins
// in December counts for the year it ends in. They are sorted by date.
func (c *Calendar) Ranges(year int) []Range {
	var out []Range
	for _, h := range holidays {
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
	case NewYearDay:
		from := Date{y, time.January, 1}
		return Notice{h, from, from.AddDays(DefaultNewYearDayDays - 1)}, true
	case LabourDay:
		from := Date{y, time.May, 1}
		return Notice{h, from, from.AddDays(DefaultLabourDayDays - 1)}, true
	case DragonBoat:
		l, ok := lunarYear(y)
		return Notice{h, l.dragonBoat, l.dragonBoat.AddDays(DefaultDragonBoatDays - 1)}, ok
	}
	return Notice{}, false
}
