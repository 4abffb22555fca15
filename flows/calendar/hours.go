package calendar

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Window is one stretch of service hours: the weekdays it applies to (all
// when empty) and the time of day, From inclusive to To exclusive, in
// minutes after midnight; To may be 24*60. A window over midnight is two
// windows.
type Window struct {
	Weekdays []time.Weekday
	From, To int
}

// Hours are the service hours of a hotline (CS-AFTER-HOURS); none means
// always open.
type Hours []Window

// weekdayNames are the names a window's weekdays are written with.
var weekdayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseWindow reads a window written as weekday names (mon..sun, or none
// for every day) and "08:30-20:00" (24:00 for midnight).
func ParseWindow(days []string, span string) (Window, error) {
	var w Window
	for _, d := range days {
		wd, ok := weekdayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return w, fmt.Errorf("weekday %q: use mon, tue, wed, thu, fri, sat or sun", d)
		}
		w.Weekdays = append(w.Weekdays, wd)
	}
	a, b, ok := strings.Cut(span, "-")
	from, e1 := clock(a)
	to, e2 := clock(b)
	switch {
	case !ok || e1 != nil || e2 != nil:
		return w, fmt.Errorf("time %q: write it like 08:30-20:00", span)
	case to <= from:
		return w, fmt.Errorf("time %q: the end must come after the start (over midnight: two windows, ...-24:00 and 00:00-...)", span)
	}
	w.From, w.To = from, to
	return w, nil
}

// clock reads "HH:MM" as minutes after midnight, 00:00 to 24:00.
func clock(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "24:00" {
		return 24 * 60, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, errors.New("not a time of day")
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (w Window) on(d time.Weekday) bool {
	if len(w.Weekdays) == 0 {
		return true
	}
	for _, x := range w.Weekdays {
		if x == d {
			return true
		}
	}
	return false
}

// Open reports whether the service is open at t in loc: always, when
// there are no hours.
func (h Hours) Open(t time.Time, loc *time.Location) bool {
	if len(h) == 0 {
		return true
	}
	l := t.In(loc)
	m := l.Hour()*60 + l.Minute()
	for _, w := range h {
		if w.on(l.Weekday()) && m >= w.From && m < w.To {
			return true
		}
	}
	return false
}

// NextOpen returns when the service opens next after t (t itself when it
// is open), looking a week ahead; false when the hours never open.
func (h Hours) NextOpen(t time.Time, loc *time.Location) (time.Time, bool) {
	if h.Open(t, loc) {
		return t, true
	}
	l := t.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	now := l.Hour()*60 + l.Minute()
	for i := 0; i <= 7; i++ {
		d := day.AddDate(0, 0, i)
		best := -1
		for _, w := range h {
			if !w.on(d.Weekday()) || i == 0 && w.From <= now {
				continue
			}
			if best < 0 || w.From < best {
				best = w.From
			}
		}
		if best >= 0 {
			return time.Date(d.Year(), d.Month(), d.Day(), best/60, best%60, 0, 0, loc), true
		}
	}
	return time.Time{}, false
}
