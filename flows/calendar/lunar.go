package calendar

import "time"

// The Chinese lunisolar calendar, 1900–2100, as a table: enough to find
// 春节 (lunar 1/1), 除夕 (the day before it), 端午 (lunar 5/5) and 中秋
// (lunar 8/15) of any year in that range. Dates are civil dates of China (UTC+8; before 1929
// the calendar was reckoned in Beijing local time).
//
// The table is the widely published one (as in golang-module/carbon v2.3.12,
// MIT licence, and many others), checked against an astronomical
// computation of new moons and solar terms in lunar_astro_test.go, which
// led to two corrections where that table is wrong:
//
//   - 2033: the leap month is the 11th (闰十一月, after the winter solstice
//     month), not the 7th, which puts 中秋 2033 on 09-08, not 10-07
//     (the "2033 problem", settled this way by the Purple Mountain and
//     Hong Kong observatories);
//   - 2060: the 3rd month has 29 days, so the 4th begins on 04-30, the day
//     of the new moon (18:10 UTC+8), not 05-01.
//
// Each entry describes the lunar year that begins in that Gregorian year:
// bits 0–3 the leap month (0: none), bits 4–15 the length of months 12 down
// to 1 (bit 15 is month 1; set: 30 days, clear: 29), bit 16 the length of
// the leap month.
var lunarYears = [...]uint32{
	0x04bd8, 0x04ae0, 0x0a570, 0x054d5, 0x0d260, 0x0d950, 0x16554, 0x056a0, 0x09ad0, 0x055d2, // 1900-1909
	0x04ae0, 0x0a5b6, 0x0a4d0, 0x0d250, 0x1d255, 0x0b540, 0x0d6a0, 0x0ada2, 0x095b0, 0x14977, // 1910-1919
	0x04970, 0x0a4b0, 0x0b4b5, 0x06a50, 0x06d40, 0x1ab54, 0x02b60, 0x09570, 0x052f2, 0x04970, // 1920-1929
	0x06566, 0x0d4a0, 0x0ea50, 0x16a95, 0x05ad0, 0x02b60, 0x186e3, 0x092e0, 0x1c8d7, 0x0c950, // 1930-1939
	0x0d4a0, 0x1d8a6, 0x0b550, 0x056a0, 0x1a5b4, 0x025d0, 0x092d0, 0x0d2b2, 0x0a950, 0x0b557, // 1940-1949
	0x06ca0, 0x0b550, 0x15355, 0x04da0, 0x0a5d0, 0x14573, 0x052d0, 0x0a9a8, 0x0e950, 0x06aa0, // 1950-1959
	0x0aea6, 0x0ab50, 0x04b60, 0x0aae4, 0x0a570, 0x05260, 0x0f263, 0x0d950, 0x05b57, 0x056a0, // 1960-1969
	0x096d0, 0x04dd5, 0x04ad0, 0x0a4d0, 0x0d4d4, 0x0d250, 0x0d558, 0x0b540, 0x0b5a0, 0x195a6, // 1970-1979
	0x095b0, 0x049b0, 0x0a974, 0x0a4b0, 0x0b27a, 0x06a50, 0x06d40, 0x0af46, 0x0ab60, 0x09570, // 1980-1989
	0x04af5, 0x04970, 0x064b0, 0x074a3, 0x0ea50, 0x06b58, 0x05ac0, 0x0ab60, 0x096d5, 0x092e0, // 1990-1999
	0x0c960, 0x0d954, 0x0d4a0, 0x0da50, 0x07552, 0x056a0, 0x0abb7, 0x025d0, 0x092d0, 0x0cab5, // 2000-2009
	0x0a950, 0x0b4a0, 0x0baa4, 0x0ad50, 0x055d9, 0x04ba0, 0x0a5b0, 0x15176, 0x052b0, 0x0a930, // 2010-2019
	0x07954, 0x06aa0, 0x0ad50, 0x05b52, 0x04b60, 0x0a6e6, 0x0a4e0, 0x0d260, 0x0ea65, 0x0d530, // 2020-2029
	0x05aa0, 0x076a3, 0x096d0, 0x04afb, 0x04ad0, 0x0a4d0, 0x1d0b6, 0x0d250, 0x0d520, 0x0dd45, // 2030-2039 (2033 corrected)
	0x0b5a0, 0x056d0, 0x055b2, 0x049b0, 0x0a577, 0x0a4b0, 0x0aa50, 0x1b255, 0x06d20, 0x0ada0, // 2040-2049
	0x14b63, 0x09370, 0x049f8, 0x04970, 0x064b0, 0x168a6, 0x0ea50, 0x06b20, 0x1a6c4, 0x0aae0, // 2050-2059
	0x092e0, 0x0d2e3, 0x0c960, 0x0d557, 0x0d4a0, 0x0da50, 0x05d55, 0x056a0, 0x0a6d0, 0x055d4, // 2060-2069 (2060 corrected)
	0x052d0, 0x0a9b8, 0x0a950, 0x0b4a0, 0x0b6a6, 0x0ad50, 0x055a0, 0x0aba4, 0x0a5b0, 0x052b0, // 2070-2079
	0x0b273, 0x06930, 0x07337, 0x06aa0, 0x0ad50, 0x14b55, 0x04b60, 0x0a570, 0x054e4, 0x0d160, // 2080-2089
	0x0e968, 0x0d520, 0x0daa0, 0x16aa6, 0x056d0, 0x04ae0, 0x0a9d4, 0x0a2d0, 0x0d150, 0x0f252, // 2090-2099
	0x0d520, // 2100
}

const (
	firstLunarYear = 1900
	lastLunarYear  = firstLunarYear + len(lunarYears) - 1 // 2100
)

// lunarEpoch is lunar 1900/1/1.
var lunarEpoch = Date{1900, time.January, 31}

// lunarDates are the dates of one lunar year that the holidays need.
type lunarDates struct {
	springFestival Date // lunar 1/1, 春节
	dragonBoat     Date // lunar 5/5, 端午
	midAutumn      Date // lunar 8/15, 中秋
}

// lunarTable holds the dates of every year in the table, index year-1900.
var lunarTable = buildLunarTable()

func buildLunarTable() []lunarDates {
	out := make([]lunarDates, len(lunarYears))
	start := lunarEpoch
	for i, info := range lunarYears {
		out[i] = lunarDates{
			springFestival: start,
			dragonBoat:     start.AddDays(daysBefore(info, 5) + 4),
			midAutumn:      start.AddDays(daysBefore(info, 8) + 14),
		}
		start = start.AddDays(yearDays(info))
	}
	return out
}

// daysBefore returns the number of days from lunar 1/1 to the first day of
// (non-leap) month m: the months before it, with a leap month that follows
// one of them (闰四月 comes before the fifth month).
func daysBefore(info uint32, m int) int {
	leap, n := int(info&0xf), 0
	for k := 1; k < m; k++ {
		n += monthDays(info, k)
		if k == leap {
			n += leapDays(info)
		}
	}
	return n
}

// monthDays returns the length of (non-leap) month m, 1 to 12.
func monthDays(info uint32, m int) int {
	if info&(0x10000>>m) != 0 {
		return 30
	}
	return 29
}

// leapDays returns the length of the leap month, or 0 if there is none.
func leapDays(info uint32) int {
	switch {
	case info&0xf == 0:
		return 0
	case info&0x10000 != 0:
		return 30
	default:
		return 29
	}
}

func yearDays(info uint32) int {
	n := leapDays(info)
	for m := 1; m <= 12; m++ {
		n += monthDays(info, m)
	}
	return n
}

// lunarYear returns the dates of the lunar year that begins in Gregorian
// year y, and false outside 1900–2100.
func lunarYear(y int) (lunarDates, bool) {
	if y < firstLunarYear || y > lastLunarYear {
		return lunarDates{}, false
	}
	return lunarTable[y-firstLunarYear], true
}
