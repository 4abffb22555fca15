package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// TestReopenWords: when the service opens again, as a caller hears it
// (CS-AFTER-HOURS, CS-SPEECH: 两点, not 二点; 零五分).
func TestReopenWords(t *testing.T) {
	zh, err := prompts.LoadEmbedded("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	en, err := prompts.LoadEmbedded("en")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 12, 6, 22, 0, 0, 0, loc) // a Sunday
	for _, tc := range []struct {
		cat  *prompts.Catalog
		at   time.Time
		want string
	}{
		{zh, time.Date(2026, 12, 7, 8, 30, 0, 0, loc), "day.tomorrow time.morning digit.8 unit.oclock unit.half"},
		{zh, time.Date(2026, 12, 8, 14, 0, 0, 0, loc), "day.2 time.afternoon num.liang unit.oclock"},
		{zh, time.Date(2026, 12, 6, 23, 5, 0, 0, loc), "day.today time.evening num.ten digit.1 unit.oclock digit.0 digit.5 unit.fen"},
		{zh, time.Date(2026, 12, 7, 12, 15, 0, 0, loc), "day.tomorrow time.noon num.ten digit.2 unit.oclock num.ten digit.5 unit.fen"},
		{zh, time.Date(2026, 12, 7, 1, 0, 0, 0, loc), "day.tomorrow time.night num.yi4 unit.oclock"},
		{en, time.Date(2026, 12, 7, 8, 30, 0, 0, loc), "day.tomorrow digit.8 unit.half time.morning"},
	} {
		ids, err := reopenWords(tc.cat, now, tc.at)
		if got := strings.Join(ids, " "); err != nil || got != tc.want {
			t.Errorf("%s %v: %q %v; want %q", tc.cat.Lang(), tc.at, got, err, tc.want)
		}
	}
}
