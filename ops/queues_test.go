package ops

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func TestQueuesAPI(t *testing.T) {
	m, err := queue.NewManager([]queue.Config{{Name: "customers"}, {Name: "nuisance", Yields: true}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if _, err := m.Join("customers", "c1", 0, t0.Add(-90*time.Second)); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	MountQueues(mux, m.Figures)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/queues", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	var got []struct {
		Queue       string  `json:"queue"`
		Waiting     int     `json:"waiting"`
		LongestWait float64 `json:"longest_wait_seconds"`
		Yields      bool    `json:"yields"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if len(got) != 2 || got[0].Queue != "customers" || got[0].Waiting != 1 || got[0].LongestWait < 90 || !got[1].Yields {
		t.Errorf("figures %s", rec.Body)
	}

	empty := http.NewServeMux()
	MountQueues(empty, func(time.Time) []queue.Figures { return nil })
	rec = httptest.NewRecorder()
	empty.ServeHTTP(rec, httptest.NewRequest("GET", "/api/queues", nil))
	if rec.Body.String() != "[]\n" && rec.Body.String() != "[]" {
		t.Errorf("no queues: %q, want []", rec.Body)
	}
}

func TestQueueCollector(t *testing.T) {
	m, err := queue.NewManager([]queue.Config{{Name: "customers"}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	tk, _ := m.Join("customers", "c1", 0, t0.Add(-30*time.Second))
	tk.Leave(t0, queue.Abandoned)
	if _, err := m.Join("customers", "c2", 0, t0.Add(-10*time.Second)); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewQueueCollector(m.Figures))
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`kefu_queue_waiting{queue="customers"} 1`,
		`kefu_queue_left_total{outcome="abandoned",queue="customers"} 1`,
		`kefu_queue_left_total{outcome="answered",queue="customers"} 0`,
		`kefu_queue_left_wait_seconds_total{outcome="abandoned",queue="customers"} 30`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}
