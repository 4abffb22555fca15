package calendar

import (
	"testing"
	"time"
)

// TestPeriodAt checks CS-GREET-TOD's boundaries, each belonging to the
// later period, evaluated in Asia/Shanghai from instants given in UTC (as on
// a server running in UTC).
func TestPeriodAt(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		utc  string // Shanghai is UTC+8
		want Period
	}{
		{"2026-11-22T00:29:59Z", Other},     // 08:29:59
		{"2026-11-22T00:30:00Z", Morning},   // 08:30:00
		{"2026-11-22T03:59:59Z", Morning},   // 11:59:59
		{"2026-11-22T04:00:00Z", Afternoon}, // 12:00:00
		{"2026-11-22T06:10:00Z", Afternoon}, // 14:10, the spec's example
		{"2026-11-22T09:00:00Z", Evening},   // 17:00:00
		{"2026-11-22T13:59:59Z", Evening},   // 21:59:59
		{"2026-11-22T14:00:00Z", Other},     // 22:00:00
		{"2026-11-22T20:00:00Z", Other},     // 04:00 next day
	} {
		at, err := time.Parse(time.RFC3339, tc.utc)
		if err != nil {
			t.Fatal(err)
		}
		if got := PeriodAt(at, sh); got != tc.want {
			t.Errorf("%s (Shanghai %s): %v, want %v", tc.utc, at.In(sh).Format("15:04:05"), got, tc.want)
		}
	}
}
