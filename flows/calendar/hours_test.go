package calendar

import (
	"testing"
	"time"
)

func TestServiceHours(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	week, err := ParseWindow([]string{"mon", "tue", "wed", "thu", "fri"}, "08:30-20:00")
	if err != nil {
		t.Fatal(err)
	}
	sat, err := ParseWindow([]string{"sat"}, "09:00-12:00")
	if err != nil {
		t.Fatal(err)
	}
	h := Hours{week, sat}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 2026-12-07 is a Monday.
	for _, tc := range []struct {
		now, next string
		open      bool
	}{
		{"2026-12-07 08:29", "2026-12-07 08:30", false},
		{"2026-12-07 08:30", "2026-12-07 08:30", true},
		{"2026-12-07 19:59", "2026-12-07 19:59", true},
		{"2026-12-07 20:00", "2026-12-08 08:30", false},
		{"2026-12-11 23:00", "2026-12-12 09:00", false}, // Friday night: Saturday morning
		{"2026-12-12 12:00", "2026-12-14 08:30", false}, // Saturday noon: Monday
		{"2026-12-13 10:00", "2026-12-14 08:30", false}, // Sunday
	} {
		now := at(tc.now)
		if got := h.Open(now, loc); got != tc.open {
			t.Errorf("%s: open %v, want %v", tc.now, got, tc.open)
		}
		if next, ok := h.NextOpen(now, loc); !ok || !next.Equal(at(tc.next)) {
			t.Errorf("%s: next open %v %v, want %s", tc.now, next, ok, tc.next)
		}
	}
	if !(Hours{}).Open(at("2026-12-13 03:00"), loc) {
		t.Error("no hours: always open")
	}
	for _, bad := range []string{"8-20", "20:00-08:00", "08:30-25:00", "x"} {
		if _, err := ParseWindow(nil, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := ParseWindow([]string{"monday"}, "08:00-09:00"); err == nil {
		t.Error("weekday monday accepted")
	}
}
