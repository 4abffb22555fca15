package calendar

import (
	"math"
	"testing"
	"time"
)

// An independent check of the lunar table: the Chinese calendar computed
// from astronomy, the way the observatories define it since 1929 (GB/T
// 33661-2017): a month begins on the day (UTC+8) of a new moon; the month
// holding the winter solstice is the 11th; when 13 months run from one
// 11th month to the next, the first of them holding no principal solar
// term (中气, a multiple of 30° of solar longitude) is the leap month.
// Before 1929 the day was reckoned in Beijing local time.
//
// New moons come from Meeus, Astronomical Algorithms, ch. 49 (error under
// a minute), solar longitude from ch. 25 (about 0.01°, a quarter of an
// hour), ΔT from a coarse table.

const rad = math.Pi / 180

// newMoon returns the instant (UT) of new moon number k, k = 0 being the
// new moon of 2000-01-06.
func newMoon(k float64) time.Time {
	T := k / 1236.85
	T2, T3, T4 := T*T, T*T*T, T*T*T*T
	jde := 2451550.09766 + 29.530588861*k + 0.00015437*T2 - 0.000000150*T3 + 0.00000000073*T4
	E := 1 - 0.002516*T - 0.0000074*T2
	M := (2.5534 + 29.10535670*k - 0.0000014*T2 - 0.00000011*T3) * rad
	Mp := (201.5643 + 385.81693528*k + 0.0107582*T2 + 0.00001238*T3 - 0.000000058*T4) * rad
	F := (160.7108 + 390.67050284*k - 0.0016118*T2 - 0.00000227*T3 + 0.000000011*T4) * rad
	O := (124.7746 - 1.56375588*k + 0.0020672*T2 + 0.00000215*T3) * rad
	s := math.Sin
	jde += -0.40720*s(Mp) + 0.17241*E*s(M) + 0.01608*s(2*Mp) + 0.01039*s(2*F) +
		0.00739*E*s(Mp-M) - 0.00514*E*s(Mp+M) + 0.00208*E*E*s(2*M) - 0.00111*s(Mp-2*F) -
		0.00057*s(Mp+2*F) + 0.00056*E*s(2*Mp+M) - 0.00042*s(3*Mp) + 0.00042*E*s(M+2*F) +
		0.00038*E*s(M-2*F) - 0.00024*E*s(2*Mp-M) - 0.00017*s(O) - 0.00007*s(Mp+2*M) +
		0.00004*s(2*Mp-2*F) + 0.00004*s(3*M) + 0.00003*s(Mp+M-2*F) + 0.00003*s(2*Mp+2*F) -
		0.00003*s(Mp+M+2*F) + 0.00003*s(Mp-M+2*F) - 0.00002*s(Mp-M-2*F) - 0.00002*s(3*Mp+M) +
		0.00002*s(4*Mp)
	for i, a := range [...][3]float64{
		{0.000325, 299.77, 0.107408}, {0.000165, 251.88, 0.016321}, {0.000164, 251.83, 26.651886},
		{0.000126, 349.42, 36.412478}, {0.000110, 84.66, 18.206239}, {0.000062, 141.74, 53.303771},
		{0.000060, 207.14, 2.453732}, {0.000056, 154.84, 7.306860}, {0.000047, 34.52, 27.261239},
		{0.000042, 207.19, 0.121824}, {0.000040, 291.34, 1.844379}, {0.000037, 161.72, 24.198154},
		{0.000035, 239.56, 25.513099}, {0.000023, 331.55, 3.592518},
	} {
		arg := a[1] + a[2]*k
		if i == 0 {
			arg -= 0.009173 * T2
		}
		jde += a[0] * s(arg*rad)
	}
	t := fromJD(jde)
	return t.Add(-deltaT(t.Year()))
}

// sunLongitude returns the apparent longitude of the sun, degrees in
// [0, 360), at Julian ephemeris day jde.
func sunLongitude(jde float64) float64 {
	T := (jde - 2451545.0) / 36525
	L0 := 280.46646 + 36000.76983*T + 0.0003032*T*T
	M := (357.52911 + 35999.05029*T - 0.0001537*T*T) * rad
	C := (1.914602-0.004817*T-0.000014*T*T)*math.Sin(M) + (0.019993-0.000101*T)*math.Sin(2*M) +
		0.000289*math.Sin(3*M)
	O := (125.04 - 1934.136*T) * rad
	return math.Mod(math.Mod(L0+C-0.00569-0.00478*math.Sin(O), 360)+360, 360)
}

// solarTerm returns the instant (UT) within half a year of t when the sun
// reaches longitude lon.
func solarTerm(t time.Time, lon float64) time.Time {
	jde := toJD(t)
	for range 20 {
		d := math.Mod(lon-sunLongitude(jde)+540, 360) - 180
		jde += d / 360 * 365.2422
		if math.Abs(d) < 1e-6 {
			break
		}
	}
	u := fromJD(jde)
	return u.Add(-deltaT(u.Year()))
}

// deltaT is TT − UT, interpolated in a coarse table (seconds).
func deltaT(year int) time.Duration {
	tab := [...][2]float64{{1900, -3}, {1920, 21}, {1940, 24}, {1960, 33}, {1980, 51}, {2000, 64}, {2020, 69}, {2050, 93}, {2100, 203}}
	y := float64(year)
	s := tab[len(tab)-1][1]
	for i := 1; i < len(tab); i++ {
		if y <= tab[i][0] {
			s = tab[i-1][1] + (y-tab[i-1][0])/(tab[i][0]-tab[i-1][0])*(tab[i][1]-tab[i-1][1])
			break
		}
	}
	return time.Duration(s * float64(time.Second))
}

func toJD(t time.Time) float64 { return float64(t.UnixNano())/86400e9 + 2440587.5 }

func fromJD(jd float64) time.Time {
	return time.Unix(0, 0).UTC().Add(time.Duration((jd - 2440587.5) * 86400e9))
}

// chinaDate returns the date of t in China as the calendar reckons it.
func chinaDate(t time.Time) Date {
	if t.Year() < 1929 {
		return DateOf(t.In(time.FixedZone("Beijing", 7*3600+45*60+36)))
	}
	return DateOf(t.In(time.FixedZone("UTC+8", 8*3600)))
}

// monthStarts returns the first days of the lunar months from the one
// holding d on, n of them.
func monthStarts(d Date, n int) []Date {
	noon := time.Date(d.Year, d.Month, d.Day, 4, 0, 0, 0, time.UTC) // 12:00 UTC+8
	k := math.Floor((toJD(noon) - 2451550.09766) / 29.530588861)
	for chinaDate(newMoon(k)).Compare(d) > 0 {
		k--
	}
	for chinaDate(newMoon(k+1)).Compare(d) <= 0 {
		k++
	}
	out := make([]Date, n)
	for i := range out {
		out[i] = chinaDate(newMoon(k + float64(i)))
	}
	return out
}

// astroMonth is a lunar month found from astronomy.
type astroMonth struct {
	start, end Date // end: the first day of the next month
	num        int
	leap       bool
}

// astroMonths numbers the months from the 11th month of year y-1 to the
// 11th month of year y+1.
func astroMonths(y int) []astroMonth {
	var out []astroMonth
	for yy := y - 1; yy <= y; yy++ {
		a := chinaDate(solarTerm(time.Date(yy, 12, 21, 0, 0, 0, 0, time.UTC), 270))
		b := chinaDate(solarTerm(time.Date(yy+1, 12, 21, 0, 0, 0, 0, time.UTC), 270))
		starts := monthStarts(a, 15)
		n := 0
		for starts[n+1].Compare(b) <= 0 {
			n++
		}
		leap := -1
		if n == 13 {
			for i := range n {
				if !hasPrincipalTerm(starts[i], starts[i+1]) {
					leap = i
					break
				}
			}
		}
		num := 11
		for i := range n {
			if i > 0 && i != leap {
				num = num%12 + 1
			}
			out = append(out, astroMonth{starts[i], starts[i+1], num, i == leap})
		}
	}
	return out
}

func hasPrincipalTerm(from, to Date) bool {
	mid := time.Date(from.Year, from.Month, from.Day+15, 0, 0, 0, 0, time.UTC)
	for lon := 0.0; lon < 360; lon += 30 {
		d := chinaDate(solarTerm(mid, lon))
		if from.Compare(d) <= 0 && d.Compare(to) < 0 {
			return true
		}
	}
	return false
}

// astroInfo encodes the lunar year beginning in y like lunarYears.
func astroInfo(y int) uint32 {
	ms := astroMonths(y)
	i0 := 0
	for ms[i0].num != 1 || ms[i0].leap || ms[i0].start.Year != y {
		i0++
	}
	var info uint32
	for i := i0; i == i0 || ms[i].num != 1 || ms[i].leap; i++ {
		m := ms[i]
		big := m.end.midnight().Sub(m.start.midnight()) == 30*24*time.Hour
		switch {
		case m.leap:
			info |= uint32(m.num)
			if big {
				info |= 0x10000
			}
		case big:
			info |= 0x10000 >> m.num
		}
	}
	return info
}

// tableExceptions are the years where the table keeps what was published
// although the astronomical computation above differs.
var tableExceptions = map[int]string{
	1906: "before 1929: calendars of the time",
	1917: "before 1929: calendars of the time",
	1922: "before 1929: calendars of the time",
	1954: "11th month as published (new moon 1954-11-25 20:30 UTC+8)",
	1956: "11th month as published (new moon 1956-12-02 16:12 UTC+8)",
	1978: "8th month as published on the mainland (new moon 1978-09-03 00:09 UTC+8, nine minutes after midnight)",
	2057: "new moon 2057-09-28 23:59:58 UTC+8, two seconds before midnight: beyond any prediction, the table keeps 09-29",
}

// TestLunarTableAstronomical compares every year of the table, month
// lengths and leap month, with the astronomical calendar.
func TestLunarTableAstronomical(t *testing.T) {
	for y := firstLunarYear; y <= lastLunarYear; y++ {
		got, want := lunarYears[y-firstLunarYear], astroInfo(y)
		why, excepted := tableExceptions[y]
		switch {
		case got != want && !excepted:
			t.Errorf("%d: table %#05x, astronomy %#05x", y, got, want)
		case got == want && excepted:
			t.Errorf("%d: table agrees with astronomy, drop the exception %q", y, why)
		}
	}
	// Every 春节 in the table is within the range known for 1900–2100.
	for y := firstLunarYear; y <= lastLunarYear; y++ {
		l, _ := lunarYear(y)
		if sf := l.springFestival; sf.Compare(Date{y, 1, 21}) < 0 || sf.Compare(Date{y, 2, 20}) > 0 {
			t.Errorf("%d: 春节 %v outside 01-21..02-20", y, sf)
		}
		if ma := l.midAutumn; ma.Compare(Date{y, 9, 7}) < 0 || ma.Compare(Date{y, 10, 8}) > 0 {
			t.Errorf("%d: 中秋 %v outside 09-07..10-08", y, ma)
		}
	}
}

// TestDragonBoatAstronomical checks 端午 (lunar 5/5) of every year against
// the fifth month found from astronomy (after a leap 4th month, if any),
// except where the table keeps the published calendar.
func TestDragonBoatAstronomical(t *testing.T) {
	for y := firstLunarYear; y <= lastLunarYear; y++ {
		if _, excepted := tableExceptions[y]; excepted {
			continue
		}
		var want Date
		for _, m := range astroMonths(y) {
			if m.num == 5 && !m.leap && m.start.Year == y {
				want = m.start.AddDays(4)
			}
		}
		if l, _ := lunarYear(y); l.dragonBoat != want {
			t.Errorf("%d: 端午 %v, astronomy %v", y, l.dragonBoat, want)
		}
	}
}
