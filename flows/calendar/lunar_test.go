package calendar

import (
	"testing"
	"time"
)

// published are the dates of 除夕, 春节 and 中秋 as the official calendars
// give them (Purple Mountain Observatory; the State Council's holiday
// notices for the years they cover).
var published = []struct {
	year                int
	eve, spring, autumn string
}{
	{2020, "2020-01-24", "2020-01-25", "2020-10-01"},
	{2021, "2021-02-11", "2021-02-12", "2021-09-21"},
	{2022, "2022-01-31", "2022-02-01", "2022-09-10"},
	{2023, "2023-01-21", "2023-01-22", "2023-09-29"},
	{2024, "2024-02-09", "2024-02-10", "2024-09-17"},
	{2025, "2025-01-28", "2025-01-29", "2025-10-06"},
	{2026, "2026-02-16", "2026-02-17", "2026-09-25"},
	{2027, "2027-02-05", "2027-02-06", "2027-09-15"},
	{2028, "2028-01-25", "2028-01-26", "2028-10-03"},
	{2029, "2029-02-12", "2029-02-13", "2029-09-22"},
	{2030, "2030-02-02", "2030-02-03", "2030-09-12"},
	// The "2033 problem": leap 11th month, 中秋 on 09-08 (the old table
	// had a leap 7th month and 10-07).
	{2033, "2033-01-30", "2033-01-31", "2033-09-08"},
	{2034, "2034-02-18", "2034-02-19", "2034-09-27"},
}

func mustDate(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPublishedDates checks the lunar holidays against the published dates,
// through the public API: 除夕 and 春节 greet as the New Year and the day
// before 除夕 does not; 中秋 greets as itself, the days around it do not
// (unless they are National Day).
func TestPublishedDates(t *testing.T) {
	c, err := New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range published {
		l, ok := lunarYear(p.year)
		if !ok {
			t.Fatalf("%d: no lunar year", p.year)
		}
		eve, spring, autumn := mustDate(t, p.eve), mustDate(t, p.spring), mustDate(t, p.autumn)
		if l.springFestival != spring || l.midAutumn != autumn {
			t.Errorf("%d: 春节 %v, 中秋 %v; published %v, %v", p.year, l.springFestival, l.midAutumn, spring, autumn)
		}
		for _, tc := range []struct {
			d    Date
			want Holiday
		}{
			{eve.AddDays(-1), None},
			{eve, NewYear},
			{spring, NewYear},
			{spring.AddDays(DefaultSpringFestivalDays - 1), NewYear}, // 初七
			{spring.AddDays(DefaultSpringFestivalDays), None},        // 初八
			{autumn, MidAutumn},
		} {
			if got := c.HolidayOn(tc.d); got != tc.want {
				t.Errorf("%d: HolidayOn(%v) = %v, want %v", p.year, tc.d, got, tc.want)
			}
		}
		for _, d := range []Date{autumn.AddDays(-1), autumn.AddDays(1)} {
			if got := c.HolidayOn(d); got != None && got != NationalDay {
				t.Errorf("%d: HolidayOn(%v) = %v, want none or nationalday", p.year, d, got)
			}
		}
	}
}

// dragonBoat are the published dates of 端午 (lunar 5/5); 2020 and 2023
// have a leap month before the fifth (闰四月, 闰二月).
var dragonBoat = map[int]string{
	2020: "2020-06-25", 2023: "2023-06-22", 2024: "2024-06-10", 2025: "2025-05-31",
	2026: "2026-06-19", 2027: "2027-06-09", 2028: "2028-05-28", 2029: "2029-06-16", 2030: "2030-06-05",
}

// TestOtherHolidays checks the holidays added to the book's three
// (CS-GREET-HOLIDAY): 元旦 on 01-01, 劳动节 05-01 to 05-05, 端午 on its
// published date, and no greeting on 清明.
func TestOtherHolidays(t *testing.T) {
	c, err := New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for y := 2026; y <= 2030; y++ {
		db := mustDate(t, dragonBoat[y])
		for _, tc := range []struct {
			d    Date
			want Holiday
		}{
			{Date{y - 1, 12, 31}, None},
			{Date{y, 1, 1}, NewYearDay},
			{Date{y, 1, 2}, None},
			{Date{y, 4, 30}, None},
			{Date{y, 5, 1}, LabourDay},
			{Date{y, 5, DefaultLabourDayDays}, LabourDay},
			{Date{y, 5, DefaultLabourDayDays + 1}, None},
			{db.AddDays(-1), None},
			{db, DragonBoat},
			{db.AddDays(1), None},
		} {
			if got := c.HolidayOn(tc.d); got != tc.want {
				t.Errorf("HolidayOn(%v) = %v, want %v", tc.d, got, tc.want)
			}
		}
	}
	for y, s := range dragonBoat {
		if l, _ := lunarYear(y); l.dragonBoat != mustDate(t, s) {
			t.Errorf("%d: 端午 %v, published %s", y, l.dragonBoat, s)
		}
	}
	// 清明 (2026-04-05, 2027-04-05, 2028-04-04): the time-of-day opening.
	for _, d := range []Date{{2026, 4, 5}, {2027, 4, 5}, {2028, 4, 4}} {
		if got := c.HolidayOn(d); got != None {
			t.Errorf("清明 %v: %v, want none", d, got)
		}
	}
}

// TestLunarRange checks the ends of the table.
func TestLunarRange(t *testing.T) {
	for _, tc := range []struct {
		year   int
		ok     bool
		spring string
	}{
		{1899, false, ""},
		{1900, true, "1900-01-31"},
		{2100, true, "2100-02-09"},
		{2101, false, ""},
	} {
		l, ok := lunarYear(tc.year)
		if ok != tc.ok || (ok && l.springFestival.String() != tc.spring) {
			t.Errorf("lunarYear(%d) = %v, %v; want %s, %v", tc.year, l.springFestival, ok, tc.spring, tc.ok)
		}
	}
	c, err := New(time.UTC, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Outside the table only the Gregorian holidays are computed.
	if got := c.HolidayOn(Date{2101, 10, 3}); got != NationalDay {
		t.Errorf("2101-10-03: %v", got)
	}
	if got := c.Ranges(2101); len(got) != 3 {
		t.Errorf("Ranges(2101) = %v, want 元旦, 劳动节 and National Day only", got)
	}
	if got := c.HolidayOn(Date{1900, 1, 30}); got != NewYear {
		t.Errorf("1900-01-30 (除夕): %v", got)
	}
}
