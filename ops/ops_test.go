package ops

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

type status struct{ ready bool }

func (s *status) Ready() bool      { return s.ready }
func (s *status) ActiveCalls() int { return 3 }

func TestHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "kefu_test_total", Help: "t"})
	reg.MustRegister(c)
	c.Add(2)
	st := &status{ready: true}
	h := Handler(st, reg, func() string { return "v1" })
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, `"calls":3`) || !strings.Contains(body, `"v1"`) {
		t.Errorf("/healthz = %d %s", code, body)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz ready = %d", code)
	}
	st.ready = false
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, `"ready":false`) {
		t.Errorf("/readyz draining = %d %s", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "kefu_test_total 2") {
		t.Errorf("/metrics = %d %s", code, body)
	}
}
