package ops

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestInZone: every time in a value, wherever it sits, is written in the
// hotline's zone with its offset; zero times stay zero, and the value
// handed in is not changed.
func TestInZone(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	type inner struct {
		At  time.Time  `json:"at"`
		Ptr *time.Time `json:"ptr"`
	}
	type outer struct {
		A      time.Time        `json:"a"`
		Zero   time.Time        `json:"zero,omitzero"`
		List   []inner          `json:"list"`
		Map    map[string]any   `json:"map"`
		Nested *inner           `json:"nested"`
		Arr    [1]time.Time     `json:"arr"`
		hidden time.Time        //nolint:unused // copied, not converted
		Any    any              `json:"any"`
		Nil    *inner           `json:"nil"`
		Empty  []inner          `json:"empty"`
		ByName map[string]inner `json:"by_name"`
	}
	v := outer{A: at, List: []inner{{At: at, Ptr: &at}}, Map: map[string]any{"t": at}, Nested: &inner{At: at},
		Arr: [1]time.Time{at}, hidden: at, Any: at, Empty: []inner{}, ByName: map[string]inner{"x": {At: at}}}
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(withZone(r.Context(), shanghai))
	respond(rec, r, http.StatusOK, v)
	body := rec.Body.String()
	if n := strings.Count(body, "2026-03-02T09:00:00+08:00"); n != 8 {
		t.Errorf("%d times in the zone, want 8: %s", n, body)
	}
	if strings.Contains(body, "Z\"") || strings.Contains(body, "zero") || !strings.Contains(body, `"empty":[]`) || !strings.Contains(body, `"nil":null`) {
		t.Errorf("body %s", body)
	}
	if v.A.Location() != time.UTC || v.List[0].At.Location() != time.UTC || v.List[0].Ptr.Location() != time.UTC || v.Map["t"].(time.Time).Location() != time.UTC {
		t.Error("the value handed in was changed")
	}
	var back outer
	if err := json.Unmarshal(rec.Body.Bytes(), &back); err != nil || !back.A.Equal(at) {
		t.Errorf("read back: %v %v", back.A, err)
	}
}
