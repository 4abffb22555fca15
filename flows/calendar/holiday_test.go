package calendar

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// notice2026 is the 2026 Spring Festival notice: 2026-02-15 (腊月廿八) to
// 2026-02-23, where the computed range is 02-16 (除夕) to 02-23 (初七).
var notice2026 = Notice{NewYear, Date{2026, 2, 15}, Date{2026, 2, 23}}

// TestOpening runs a server in UTC that greets for Asia/Shanghai: instants
// are given in UTC, around midnight and the period boundaries in UTC+8.
func TestOpening(t *testing.T) {
	computed, err := New(shanghai(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	noticed, err := New(shanghai(t), []Notice{notice2026})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		utc      string
		waited   time.Duration
		computed string // without notices
		noticed  string // with notice2026
	}{
		// 2026-02-15, 腊月廿八: a holiday only by the notice.
		{"2026-02-15T00:29:59Z", 0, "greet.default", "greet.newyear"},
		{"2026-02-15T06:10:00Z", 0, "greet.afternoon", "greet.newyear"},
		{"2026-02-15T15:59:59Z", 0, "greet.default", "greet.newyear"}, // 23:59:59
		{"2026-02-14T15:59:59Z", 0, "greet.default", "greet.default"}, // 02-14 23:59:59
		{"2026-02-14T16:00:00Z", 0, "greet.default", "greet.newyear"}, // 02-15 00:00
		// 除夕 begins at midnight UTC+8, 16:00 UTC the day before.
		{"2026-02-15T16:00:00Z", 0, "greet.newyear", "greet.newyear"},
		{"2026-02-16T04:00:00Z", 0, "greet.newyear", "greet.newyear"},
		// The last day, 初七 (02-23), and the day after.
		{"2026-02-23T15:59:59Z", 0, "greet.newyear", "greet.newyear"},
		{"2026-02-23T16:00:00Z", 0, "greet.default", "greet.default"},
		{"2026-02-24T00:30:00Z", 0, "greet.morning", "greet.morning"},
		// A busy caller on a holiday gets the apology.
		{"2026-02-17T02:00:00Z", 15 * time.Second, "greet.busy", "greet.busy"},
		{"2026-02-17T02:00:00Z", 15*time.Second - time.Millisecond, "greet.newyear", "greet.newyear"},
		{"2026-03-02T02:00:00Z", time.Minute, "greet.busy", "greet.busy"},
		// Periods on an ordinary day, each boundary in the later period.
		{"2026-03-02T00:29:59Z", 0, "greet.default", "greet.default"},
		{"2026-03-02T00:30:00Z", 0, "greet.morning", "greet.morning"},
		{"2026-03-02T03:59:59Z", 0, "greet.morning", "greet.morning"},
		{"2026-03-02T04:00:00Z", 0, "greet.afternoon", "greet.afternoon"},
		{"2026-03-02T08:59:59Z", 0, "greet.afternoon", "greet.afternoon"},
		{"2026-03-02T09:00:00Z", 0, "greet.evening", "greet.evening"},
		{"2026-03-02T13:59:59Z", 0, "greet.evening", "greet.evening"},
		{"2026-03-02T14:00:00Z", 0, "greet.default", "greet.default"},
		// 中秋 2026-09-25 and National Day 10-01..10-07, at their edges.
		{"2026-09-24T15:59:59Z", 0, "greet.default", "greet.default"}, // 23:59:59
		{"2026-09-24T16:00:00Z", 0, "greet.midautumn", "greet.midautumn"},
		{"2026-09-25T15:59:59Z", 0, "greet.midautumn", "greet.midautumn"},
		{"2026-09-25T16:00:00Z", 0, "greet.default", "greet.default"},
		{"2026-09-30T15:59:59Z", 0, "greet.default", "greet.default"},
		{"2026-09-30T16:00:00Z", 0, "greet.nationalday", "greet.nationalday"},
		{"2026-10-07T15:59:59Z", 0, "greet.nationalday", "greet.nationalday"},
		{"2026-10-07T16:00:00Z", 0, "greet.default", "greet.default"},
		// 2025: 中秋 (10-06) within the National Day week greets as 中秋.
		{"2025-10-05T02:00:00Z", 0, "greet.nationalday", "greet.nationalday"},
		{"2025-10-06T02:00:00Z", 0, "greet.midautumn", "greet.midautumn"},
		// 元旦 2027, from midnight UTC+8.
		{"2026-12-31T15:59:59Z", 0, "greet.default", "greet.default"},
		{"2026-12-31T16:00:00Z", 0, "greet.newyearday", "greet.newyearday"},
		{"2027-01-01T15:59:59Z", 0, "greet.newyearday", "greet.newyearday"},
		{"2027-01-01T16:00:00Z", 0, "greet.default", "greet.default"},
		// 劳动节 2026: 05-01 to 05-05.
		{"2026-04-30T06:00:00Z", 0, "greet.afternoon", "greet.afternoon"},
		{"2026-05-01T06:00:00Z", 0, "greet.labourday", "greet.labourday"},
		{"2026-05-05T06:00:00Z", 0, "greet.labourday", "greet.labourday"},
		{"2026-05-06T06:00:00Z", 0, "greet.afternoon", "greet.afternoon"},
		// 端午 2026-06-19; 清明 2026-04-05 keeps the time-of-day opening.
		{"2026-06-19T02:00:00Z", 0, "greet.dragonboat", "greet.dragonboat"},
		{"2026-06-20T02:00:00Z", 0, "greet.morning", "greet.morning"},
		{"2026-04-05T02:00:00Z", 0, "greet.morning", "greet.morning"},
	} {
		at := utc(t, tc.utc)
		for _, c := range []struct {
			cal  *Calendar
			want string
		}{{computed, tc.computed}, {noticed, tc.noticed}} {
			got := c.cal.Opening(at, tc.waited, DefaultBusyThreshold)
			if got != c.want {
				t.Errorf("%s (Shanghai %s), waited %v, notices %v: %s, want %s", tc.utc,
					at.In(shanghai(t)).Format("2006-01-02 15:04:05"), tc.waited, c.cal.notices, got, c.want)
			}
			// The zone of the instant itself does not matter.
			ny, _ := time.LoadLocation("America/New_York")
			if again := c.cal.Opening(at.In(ny), tc.waited, DefaultBusyThreshold); again != got {
				t.Errorf("%s: %s in New York's zone, %s in UTC", tc.utc, again, got)
			}
		}
	}
}

func TestBusyThreshold(t *testing.T) {
	c, err := New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := utc(t, "2026-03-02T02:00:00Z") // 10:00 in Shanghai
	for _, tc := range []struct {
		waited, threshold time.Duration
		want              string
	}{
		{14 * time.Second, 0, "greet.morning"}, // 0: the default, 15 s
		{15 * time.Second, 0, "greet.busy"},
		{20 * time.Second, 30 * time.Second, "greet.morning"},
		{30 * time.Second, 30 * time.Second, "greet.busy"},
		{0, 0, "greet.morning"},
	} {
		if got := c.Opening(at, tc.waited, tc.threshold); got != tc.want {
			t.Errorf("waited %v, threshold %v: %s, want %s", tc.waited, tc.threshold, got, tc.want)
		}
	}
}

// TestNoticeWins checks that a year's notices replace the computed range
// of their holiday in that year, and only that one.
func TestNoticeWins(t *testing.T) {
	c, err := New(nil, []Notice{
		notice2026,
		// A hypothetical one-day shift of 中秋 2026 (computed: 09-25).
		{MidAutumn, Date{2026, 9, 26}, Date{2026, 9, 26}},
		// 2025: National Day and 中秋 together, 10-01 to 10-08.
		{NationalDay, Date{2025, 10, 1}, Date{2025, 10, 8}},
		{NewYearDay, Date{2023, 12, 30}, Date{2024, 1, 1}},
		{LabourDay, Date{2026, 5, 1}, Date{2026, 5, 3}},
		{DragonBoat, Date{2026, 6, 19}, Date{2026, 6, 21}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d    Date
		want Holiday
	}{
		{Date{2026, 2, 14}, None},
		{Date{2026, 2, 15}, NewYear},
		{Date{2026, 2, 23}, NewYear},
		{Date{2026, 2, 24}, None},
		{Date{2026, 9, 25}, None}, // the computed date, replaced
		{Date{2026, 9, 26}, MidAutumn},
		{Date{2025, 10, 6}, MidAutumn}, // computed 中秋 precedes the notice's National Day
		{Date{2025, 10, 8}, NationalDay},
		{Date{2025, 10, 9}, None},
		{Date{2027, 2, 6}, NewYear}, // other years keep their computed ranges
		{Date{2027, 10, 7}, NationalDay},
		{Date{2027, 10, 8}, None},
		// 元旦 2024's notice began in 2023: 2023-12-30 to 2024-01-01; 元旦
		// 2023 keeps its computed day.
		{Date{2023, 12, 29}, None},
		{Date{2023, 12, 30}, NewYearDay},
		{Date{2024, 1, 1}, NewYearDay},
		{Date{2024, 1, 2}, None},
		{Date{2023, 1, 1}, NewYearDay},
		// 劳动节 2026 by a notice of 05-01 to 05-03 (computed: to 05-05).
		{Date{2026, 5, 3}, LabourDay},
		{Date{2026, 5, 4}, None},
		// 端午 2026 by a notice of 06-19 to 06-21 (computed: 06-19).
		{Date{2026, 6, 21}, DragonBoat},
		{Date{2026, 6, 22}, None},
		{Date{2027, 5, 5}, LabourDay}, // other years keep their computed ranges
		{Date{2027, 6, 10}, None},
	} {
		if got := c.HolidayOn(tc.d); got != tc.want {
			t.Errorf("HolidayOn(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
	want := []Range{
		{Notice{NewYearDay, Date{2026, 1, 1}, Date{2026, 1, 1}}, false},
		{Notice{NewYear, Date{2026, 2, 15}, Date{2026, 2, 23}}, true},
		{Notice{LabourDay, Date{2026, 5, 1}, Date{2026, 5, 3}}, true},
		{Notice{DragonBoat, Date{2026, 6, 19}, Date{2026, 6, 21}}, true},
		{Notice{MidAutumn, Date{2026, 9, 26}, Date{2026, 9, 26}}, true},
		{Notice{NationalDay, Date{2026, 10, 1}, Date{2026, 10, 7}}, false},
	}
	if got := c.Ranges(2026); !slices.Equal(got, want) {
		t.Errorf("Ranges(2026) = %v\nwant %v", got, want)
	}
	if got := c.Ranges(2024); len(got) == 0 || got[0] != (Range{Notice{NewYearDay, Date{2023, 12, 30}, Date{2024, 1, 1}}, true}) {
		t.Errorf("Ranges(2024) = %v, want 元旦's notice first", got)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		notices []Notice
		want    string // "" for no error
	}{
		{"ok", []Notice{notice2026}, ""},
		{"two disjoint ranges", []Notice{
			{NewYear, Date{2026, 2, 16}, Date{2026, 2, 16}},
			{NewYear, Date{2026, 2, 18}, Date{2026, 2, 20}}}, ""},
		{"different holidays overlap", []Notice{
			{NationalDay, Date{2025, 10, 1}, Date{2025, 10, 8}},
			{MidAutumn, Date{2025, 10, 6}, Date{2025, 10, 6}}}, ""},
		{"from after to", []Notice{{NewYear, Date{2026, 2, 23}, Date{2026, 2, 15}}},
			"notice 1 (newyear 2026-02-23..2026-02-15): invalid holiday notice: from 2026-02-23 is after to 2026-02-15"},
		{"overlap", []Notice{notice2026, {NewYear, Date{2026, 2, 23}, Date{2026, 2, 24}}},
			"notice 2 (newyear 2026-02-23..2026-02-24): invalid holiday notice: overlaps notice newyear 2026-02-15..2026-02-23 of the same holiday"},
		{"no holiday", []Notice{{None, Date{2026, 2, 15}, Date{2026, 2, 16}}}, "no holiday named"},
		{"bad date", []Notice{{MidAutumn, Date{2026, 2, 30}, Date{2026, 3, 1}}}, "invalid date"},
		{"zero date", []Notice{{MidAutumn, Date{}, Date{2026, 3, 1}}}, "invalid date"},
		{"two years", []Notice{{NewYear, Date{2026, 12, 30}, Date{2027, 1, 2}}}, "spans two years"},
		{"元旦 from December", []Notice{{NewYearDay, Date{2026, 12, 30}, Date{2027, 1, 1}}}, ""},
		{"元旦 over three years", []Notice{{NewYearDay, Date{2025, 12, 30}, Date{2027, 1, 1}}}, "spans two years"},
		{"元旦 2027 twice", []Notice{{NewYearDay, Date{2026, 12, 31}, Date{2027, 1, 1}}, {NewYearDay, Date{2027, 1, 1}, Date{2027, 1, 2}}},
			"overlaps notice newyearday 2026-12-31..2027-01-01"},
		{"too long", []Notice{{NationalDay, Date{2026, 9, 1}, Date{2026, 10, 7}}}, "longer than 31 days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(nil, tc.notices)
			if tc.want == "" {
				if err != nil || c == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrNotice) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v\nwant an ErrNotice containing %q", err, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	var n struct {
		h Holiday
		d Date
	}
	for _, s := range []string{"newyear", "NewYear", "春节", "除夕"} {
		if err := n.h.UnmarshalText([]byte(s)); err != nil || n.h != NewYear {
			t.Errorf("Holiday %q: %v, %v", s, n.h, err)
		}
	}
	for s, want := range map[string]Holiday{"midautumn": MidAutumn, "中秋节": MidAutumn, "nationalday": NationalDay, "国庆": NationalDay,
		"newyearday": NewYearDay, "元旦": NewYearDay, "labourday": LabourDay, "LaborDay": LabourDay, "劳动节": LabourDay, "五一": LabourDay,
		"dragonboat": DragonBoat, "端午": DragonBoat, "端午节": DragonBoat} {
		if h, err := ParseHoliday(s); err != nil || h != want {
			t.Errorf("ParseHoliday(%q) = %v, %v", s, h, err)
		}
	}
	for s, want := range map[string]string{"": "want newyear, midautumn, nationalday, newyearday, labourday or dragonboat",
		"none": "unknown holiday", "清明": "no holiday greeting", "qingming": "no holiday greeting"} {
		if _, err := ParseHoliday(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseHoliday(%q): %v, want an error with %q", s, err, want)
		}
	}
	for _, name := range HolidayNames() {
		if _, err := ParseHoliday(name); err != nil {
			t.Errorf("HolidayNames has %q: %v", name, err)
		}
	}
	// The config schema's enum is HolidayNames: it keeps the names it had.
	for _, name := range []string{"newyear", "midautumn", "nationalday", "春节", "除夕", "中秋", "中秋节", "国庆", "国庆节"} {
		if !slices.Contains(HolidayNames(), name) {
			t.Errorf("HolidayNames lacks %q", name)
		}
	}
	if err := n.d.UnmarshalText([]byte("2026-02-15")); err != nil || n.d != (Date{2026, 2, 15}) {
		t.Errorf("Date: %v, %v", n.d, err)
	}
	for _, s := range []string{"2026-02-30", "2026-2-15", "15/02/2026"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q): no error", s)
		}
	}
	if b, _ := NationalDay.MarshalText(); string(b) != "nationalday" {
		t.Errorf("MarshalText: %s", b)
	}
	if b, _ := (Date{2026, 2, 5}).MarshalText(); string(b) != "2026-02-05" {
		t.Errorf("MarshalText: %s", b)
	}
}

// TestOpeningPrompts checks that both default prompt sets have every
// prompt Opening can return.
func TestOpeningPrompts(t *testing.T) {
	ids := OpeningPrompts()
	if len(ids) != 11 {
		t.Fatalf("OpeningPrompts() = %v", ids)
	}
	for _, lang := range prompts.EmbeddedLangs() {
		c, err := prompts.LoadEmbedded(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if _, ok := c.Get(id); !ok {
				t.Errorf("%s: no prompt %q", lang, id)
			}
		}
	}
}
