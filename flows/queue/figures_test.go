package queue_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// sample is one answered caller: the position it joined at and its wait.
type sample struct {
	pos  int
	wait time.Duration
}

// answer has a caller join m's queue "q" at position s.pos and be answered
// after s.wait; the callers put ahead of it abandon, which leaves the
// estimate alone. It returns the time after the sample.
func answer(t *testing.T, m *queue.Manager, now time.Time, s sample) time.Time {
	t.Helper()
	var ahead []*queue.Ticket
	for i := 1; i < s.pos; i++ {
		ahead = append(ahead, join(t, m, "q", "filler-"+now.Format(time.RFC3339Nano)+"-"+string(rune('a'+i)), 0, now))
	}
	tk := join(t, m, "q", "subject-"+now.Format(time.RFC3339Nano), 0, now)
	if tk.Position() != s.pos {
		t.Fatalf("subject joined at %d; want %d", tk.Position(), s.pos)
	}
	for _, a := range ahead {
		a.Leave(now, queue.Abandoned)
	}
	tk.Leave(now.Add(s.wait), queue.Answered)
	return now.Add(s.wait + time.Second)
}

func TestEstimate(t *testing.T) {
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	var rising []sample
	for i := 1; i <= 25; i++ {
		rising = append(rising, sample{1, sec(i)})
	}
	for _, tc := range []struct {
		name     string
		cfg      queue.Config
		samples  []sample
		perPlace time.Duration // expected per-place time
		average  time.Duration // expected Figures.AverageWait
	}{
		{"no history, default", queue.Config{}, nil, 60 * time.Second, 0},
		{"no history, configured", queue.Config{InitialEstimate: 45 * time.Second}, nil, 45 * time.Second, 0},
		{"mean of waits", queue.Config{Window: 3}, []sample{{1, sec(10)}, {1, sec(20)}, {1, sec(30)}}, sec(20), sec(20)},
		{"window drops the oldest", queue.Config{Window: 3},
			[]sample{{1, sec(10)}, {1, sec(20)}, {1, sec(30)}, {1, sec(90)}}, sec(140) / 3, sec(140) / 3},
		{"default window is 20", queue.Config{}, rising, 15500 * time.Millisecond, 15500 * time.Millisecond},
		{"per place", queue.Config{}, []sample{{2, sec(60)}, {4, sec(120)}}, sec(30), sec(90)},
		{"instant answers", queue.Config{}, []sample{{1, 0}}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Name = "q"
			m := newManager(t, tc.cfg)
			now := t0
			for _, s := range tc.samples {
				now = answer(t, m, now, s)
			}
			f := m.Figures(now)[0]
			if f.AverageWait != queue.Duration(tc.average) {
				t.Errorf("AverageWait %v; want %v", f.AverageWait, tc.average)
			}
			if f.EstimatedWait != queue.Duration(tc.perPlace) {
				t.Errorf("EstimatedWait for a new caller in an empty queue %v; want %v", f.EstimatedWait, tc.perPlace)
			}
			var ts []*queue.Ticket
			for i := range 3 {
				ts = append(ts, join(t, m, "q", "w"+string(rune('0'+i)), 0, now))
			}
			for i, tk := range ts {
				if got, want := tk.EstimatedWait(), time.Duration(i+1)*tc.perPlace; got != want {
					t.Errorf("caller %d: EstimatedWait %v; want %v", i+1, got, want)
				}
			}
			if got, want := m.Figures(now)[0].EstimatedWait, queue.Duration(4*tc.perPlace); got != want {
				t.Errorf("EstimatedWait behind 3 callers %v; want %v", got, want)
			}
		})
	}
}

func TestFigures(t *testing.T) {
	m := newManager(t,
		queue.Config{Name: "support", MaxWait: 10 * time.Minute},
		queue.Config{Name: "nuisance", Yields: true},
	)
	leave := func(id string, joined, left time.Duration, o queue.Outcome) {
		join(t, m, "support", id, 0, at(joined)).Leave(at(left), o)
	}
	leave("a1", 0, 5*time.Second, queue.Answered)
	leave("a2", 0, 45*time.Second, queue.Answered)
	leave("h1", 0, 8*time.Second, queue.Abandoned)
	leave("h2", 0, 25*time.Second, queue.Abandoned)
	leave("h3", 0, 400*time.Second, queue.Abandoned)
	leave("t1", 0, 10*time.Minute, queue.TimedOut)
	join(t, m, "support", "w1", 0, at(0))
	join(t, m, "support", "w2", 5, at(30*time.Second)) // heads the line, yet waited less

	got := m.Figures(at(100 * time.Second))
	if len(got) != 2 || got[0].Queue != "support" || got[1].Queue != "nuisance" || !got[1].Yields {
		t.Fatalf("figures of %+v", got)
	}
	f := got[0]
	s := func(n float64) queue.Duration { return queue.Duration(n * float64(time.Second)) }
	cum := func(counts ...int64) []queue.Bucket {
		bounds := []float64{10, 20, 30, 60, 120, 300, 600, 1800}
		var out []queue.Bucket
		for i, c := range counts {
			out = append(out, queue.Bucket{UpTo: s(bounds[i]), Count: c})
		}
		return out
	}
	want := queue.Figures{
		Queue:       "support",
		Waiting:     2,
		LongestWait: s(100),
		MaxWait:     s(600),
		Answered:    queue.WaitStats{Count: 2, Total: s(50), Mean: s(25), Max: s(45), Buckets: cum(1, 1, 1, 2, 2, 2, 2, 2)},
		Abandoned: queue.WaitStats{Count: 3, Total: s(433), Mean: queue.Duration(433 * time.Second / 3), Max: s(400),
			Buckets: cum(1, 1, 2, 2, 2, 2, 3, 3)},
		TimedOut:      queue.WaitStats{Count: 1, Total: s(600), Mean: s(600), Max: s(600), Buckets: cum(0, 0, 0, 0, 0, 0, 1, 1)},
		AverageWait:   s(25),
		EstimatedWait: s(75), // 3 places × (5+45)/(1+1) s
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("figures\n got %+v\nwant %+v", f, want)
	}

	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"queue":"support"`, `"waiting":2`, `"longest_wait_seconds":100`,
		`"abandoned":{"count":3,"total_seconds":433,"mean_seconds":144.333333333,"max_seconds":400,"buckets":[{"le_seconds":10,"count":1}`,
		`"estimated_wait_seconds":75`} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("JSON lacks %s:\n%s", frag, b)
		}
	}
	var back queue.Figures
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, f) {
		t.Errorf("JSON round trip: %v\n got %+v\nwant %+v", err, back, f)
	}
}

func TestDurationJSON(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		json string
	}{{0, "0"}, {90 * time.Second, "90"}, {1500 * time.Millisecond, "1.5"}, {time.Nanosecond, "0.000000001"}} {
		b, _ := json.Marshal(queue.Duration(tc.d))
		if string(b) != tc.json {
			t.Errorf("%v marshals to %s; want %s", tc.d, b, tc.json)
		}
		var d queue.Duration
		if err := json.Unmarshal(b, &d); err != nil || time.Duration(d) != tc.d {
			t.Errorf("%s unmarshals to %v, %v", b, d, err)
		}
	}
	var d queue.Duration
	for _, bad := range []string{`"90s"`, `1e300`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s unmarshalled to %v", bad, d)
		}
	}
}
