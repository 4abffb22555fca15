package ops

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
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
