package ops

import (
	"errors"
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
	version := "v1"
	fail := false
	reload := func() (string, error) {
		if fail {
			return "", errors.New("kefu.yaml:3:5: bad\nkefu.yaml:9:1: worse")
		}
		version = "v2"
		return version, nil
	}
	h := Handler(st, reg, func() string { return version }, reload)
	do := func(method, path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Code, rec.Body.String()
	}
	get := func(path string) (int, string) { return do(http.MethodGet, path) }
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
	if code, body := do(http.MethodPost, "/api/reload"); code != 200 || !strings.Contains(body, `"version":"v2"`) {
		t.Errorf("reload = %d %s", code, body)
	}
	fail = true
	if code, body := do(http.MethodPost, "/api/reload"); code != 422 || !strings.Contains(body, `"running":"v2"`) || !strings.Contains(body, "kefu.yaml:9:1: worse") {
		t.Errorf("bad reload = %d %s", code, body)
	}
	if code, _ := get("/api/reload"); code != 405 {
		t.Errorf("GET /api/reload = %d, want 405", code)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "kefu_test_total 2") {
		t.Errorf("/metrics = %d %s", code, body)
	}
}
