// Package recordstest holds the behaviour every records.Backend must
// have, as tests: records.Memory runs them, and so does flows/store on
// SQLite, so the simulation and the real store cannot drift apart.
package recordstest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// T0 is the instant the scenarios start at: 09:00 in Shanghai.
var T0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// Number and Caller are the callback and calling numbers the scenarios
// use; error messages must never contain them.
const (
	Number = "13812345678"
	Caller = "13987654321"
)

// Run runs every scenario, each on a new backend from open.
func Run(t *testing.T, open func(t *testing.T) records.Backend) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, b records.Backend)
	}{
		{"RoundTrip", roundTrip},
		{"Invalid", invalidRecords},
		{"Filters", filters},
		{"Pages", pages},
		{"Mark", mark},
		{"Summary", summary},
		{"Recording", recording},
		{"Concurrent", concurrent},
		{"Context", cancelled},
		{"ComplaintByID", complaintByID},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// Callback is a valid callback from call id at t.
func Callback(id string, t time.Time) records.Callback {
	return records.Callback{CallID: id, Caller: Caller, Number: Number, Reason: "system_down", Queue: "general", At: t}
}

// Complaint is a valid complaint from call id at t, due 24 h later.
func Complaint(id string, t time.Time) records.Complaint {
	return records.Complaint{CallID: id, Caller: Caller, Class: "service", At: t,
		Recording: "recordings/" + id + ".wav", Duration: 42 * time.Second}
}

// Survey is a valid answer from call id at t with score.
func Survey(id string, t time.Time, score int) records.SurveyAnswer {
	return records.SurveyAnswer{CallID: id, Caller: Caller, Survey: "after-service", Score: score,
		Key: fmt.Sprint(score), At: t, Flow: "main", Version: "v7"}
}

func roundTrip(t *testing.T, b records.Backend) {
	ctx := t.Context()
	shanghai := time.FixedZone("CST", 8*3600)
	at := T0.In(shanghai).Add(1234567 * time.Nanosecond) // sub-microsecond part and a zone, both dropped
	want := time.UnixMicro(at.UnixMicro()).UTC()

	cb, err := b.AddCallback(ctx, Callback("c1", at))
	if err != nil {
		t.Fatal(err)
	}
	if cb.ID <= 0 || cb.At != want || cb.Number != Number || cb.Done || !cb.DoneAt.IsZero() {
		t.Fatalf("added callback %+v", cb)
	}
	cb2, err := b.AddCallback(ctx, Callback("c2", at))
	if err != nil || cb2.ID == cb.ID {
		t.Fatalf("second callback %+v %v: want a new ID", cb2, err)
	}
	cbs, err := b.Callbacks(ctx, records.Filter{})
	if err != nil || len(cbs) != 2 || cbs[0] != cb || cbs[1] != cb2 {
		t.Fatalf("callbacks %+v %v; want %+v %+v", cbs, err, cb, cb2)
	}

	c, err := b.AddComplaint(ctx, Complaint("c1", at))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID <= 0 || c.At != want || c.Deadline != want.Add(records.DefaultReplyWithin) || c.Replied || c.State != records.Recorded ||
		c.Recording != "recordings/c1.wav" || c.Duration != 42*time.Second || c.Class != "service" {
		t.Fatalf("added complaint %+v", c)
	}
	own := Complaint("c2", at)
	own.Deadline, own.Duration, own.Recording = at.Add(2*time.Hour), 1500*time.Nanosecond, ""
	c2, err := b.AddComplaint(ctx, own)
	if err != nil || c2.Deadline != want.Add(2*time.Hour) || c2.Duration != time.Microsecond || c2.Recording != "" {
		t.Fatalf("complaint with its own deadline: %+v %v", c2, err)
	}
	cs, err := b.Complaints(ctx, records.Filter{})
	if err != nil || len(cs) != 2 || cs[0] != c || cs[1] != c2 {
		t.Fatalf("complaints %+v %v; want %+v %+v", cs, err, c, c2)
	}

	a, err := b.AddSurvey(ctx, Survey("c1", at, 5))
	if err != nil {
		t.Fatal(err)
	}
	if a.ID <= 0 || a.At != want || a.Score != 5 || a.Key != "5" || a.Flow != "main" || a.Version != "v7" {
		t.Fatalf("added answer %+v", a)
	}
	as, err := b.Surveys(ctx, records.Filter{})
	if err != nil || len(as) != 1 || as[0] != a {
		t.Fatalf("surveys %+v %v; want %+v", as, err, a)
	}
}

func invalidRecords(t *testing.T, b records.Backend) {
	ctx := t.Context()
	check := func(what, field string, err error) {
		t.Helper()
		var ve *records.ValidationError
		if !errors.Is(err, records.ErrInvalid) || !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("%s: %v; want an invalid %s", what, err, field)
		} else if strings.Contains(err.Error(), Number) || strings.Contains(err.Error(), Caller) {
			t.Errorf("%s: %q shows a number", what, err)
		}
	}
	cb := func(f func(*records.Callback)) error {
		c := Callback("c", T0)
		f(&c)
		_, err := b.AddCallback(ctx, c)
		return err
	}
	check("no number", "Number", cb(func(c *records.Callback) { c.Number = "" }))
	check("short number", "Number", cb(func(c *records.Callback) { c.Number = "12" }))
	check("letters", "Number", cb(func(c *records.Callback) { c.Number = Number + "x" }))
	check("inner plus", "Number", cb(func(c *records.Callback) { c.Number = "138+2345678" }))
	check("long number", "Number", cb(func(c *records.Callback) { c.Number = strings.Repeat("1", records.MaxNumberLen+1) }))
	check("no time", "At", cb(func(c *records.Callback) { c.At = time.Time{} }))
	check("done", "Done", cb(func(c *records.Callback) { c.Done = true }))
	check("long reason", "Reason", cb(func(c *records.Callback) { c.Reason = strings.Repeat("x", records.MaxTextLen+1) }))
	if err := cb(func(c *records.Callback) { c.Number = "+8613812345678" }); err != nil {
		t.Errorf("international number: %v", err)
	}

	cp := func(f func(*records.Complaint)) error {
		c := Complaint("c", T0)
		f(&c)
		_, err := b.AddComplaint(ctx, c)
		return err
	}
	check("deadline before", "Deadline", cp(func(c *records.Complaint) { c.Deadline = T0.Add(-time.Second) }))
	check("absolute recording", "Recording", cp(func(c *records.Complaint) { c.Recording = "/etc/passwd" }))
	check("escaping recording", "Recording", cp(func(c *records.Complaint) { c.Recording = "../kefu.db" }))
	check("negative duration", "Duration", cp(func(c *records.Complaint) { c.Duration = -time.Second }))
	check("replied", "Replied", cp(func(c *records.Complaint) { c.RepliedAt = T0 }))
	check("bad call id", "CallID", cp(func(c *records.Complaint) { c.CallID = "\xff" }))
	check("bad state", "State", cp(func(c *records.Complaint) { c.State = "lost" }))

	sv := func(f func(*records.SurveyAnswer)) error {
		a := Survey("c", T0, 3)
		f(&a)
		_, err := b.AddSurvey(ctx, a)
		return err
	}
	check("score 0", "Score", sv(func(a *records.SurveyAnswer) { a.Score = 0 }))
	check("score 10", "Score", sv(func(a *records.SurveyAnswer) { a.Score = 10 }))
	check("key", "Key", sv(func(a *records.SurveyAnswer) { a.Key = "12" }))
	check("no survey", "Survey", sv(func(a *records.SurveyAnswer) { a.Survey = "" }))

	_, err := b.Callbacks(ctx, records.Filter{Limit: -1})
	check("negative limit", "limit", err)
	_, err = b.Complaints(ctx, records.Filter{State: "lost"})
	check("bad state filter", "state", err)
	check("mark without time", "at", b.MarkCallbackDone(ctx, 1, time.Time{}, "ops"))

	// Nothing invalid was stored.
	cbs, _ := b.Callbacks(ctx, records.Filter{})
	cs, _ := b.Complaints(ctx, records.Filter{})
	as, _ := b.Surveys(ctx, records.Filter{})
	if len(cbs) != 1 || len(cs) != 0 || len(as) != 0 {
		t.Errorf("stored %d callbacks, %d complaints, %d answers; want 1, 0, 0", len(cbs), len(cs), len(as))
	}
}

func filters(t *testing.T, b records.Backend) {
	ctx := t.Context()
	// Added out of time order: lists go by At, then ID.
	var ids []int64
	for _, m := range []int{30, 10, 20, 10, 40} {
		c, err := b.AddCallback(ctx, Callback(fmt.Sprint(m), T0.Add(time.Duration(m)*time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
		if _, err := b.AddComplaint(ctx, Complaint(fmt.Sprint(m), T0.Add(time.Duration(m)*time.Minute))); err != nil {
			t.Fatal(err)
		}
		if _, err := b.AddSurvey(ctx, Survey(fmt.Sprint(m), T0.Add(time.Duration(m)*time.Minute), 4)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.MarkCallbackDone(ctx, ids[1], T0.Add(time.Hour), "ops"); err != nil { // the first at 10
		t.Fatal(err)
	}
	cs, err := b.Complaints(ctx, records.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.MarkComplaintReplied(ctx, cs[len(cs)-1].ID, T0.Add(time.Hour), "ops"); err != nil { // the one at 40
		t.Fatal(err)
	}
	since := T0.Add(20 * time.Minute)
	for _, tc := range []struct {
		f             records.Filter
		callbacks     string
		complaints    string
		surveyAnswers string
	}{
		{records.Filter{}, "10 10 20 30 40", "10 10 20 30 40", "10 10 20 30 40"},
		{records.Filter{Open: true}, "10 20 30 40", "10 10 20 30", "10 10 20 30 40"},
		{records.Filter{Since: since}, "20 30 40", "20 30 40", "20 30 40"},
		{records.Filter{Limit: 2}, "10 10", "10 10", "10 10"},
		{records.Filter{Open: true, Since: since, Limit: 2}, "20 30", "20 30", "20 30"},
		{records.Filter{Since: T0.Add(time.Hour)}, "", "", ""},
	} {
		cbs, err := b.Callbacks(ctx, tc.f)
		if got := callIDs(cbs, func(c records.Callback) string { return c.CallID }); err != nil || got != tc.callbacks {
			t.Errorf("callbacks %+v: %q %v; want %q", tc.f, got, err, tc.callbacks)
		}
		cs, err := b.Complaints(ctx, tc.f)
		if got := callIDs(cs, func(c records.Complaint) string { return c.CallID }); err != nil || got != tc.complaints {
			t.Errorf("complaints %+v: %q %v; want %q", tc.f, got, err, tc.complaints)
		}
		as, err := b.Surveys(ctx, tc.f)
		if got := callIDs(as, func(a records.SurveyAnswer) string { return a.CallID }); err != nil || got != tc.surveyAnswers {
			t.Errorf("surveys %+v: %q %v; want %q", tc.f, got, err, tc.surveyAnswers)
		}
	}
	// Equal times keep ID order.
	cbs, _ := b.Callbacks(ctx, records.Filter{Limit: 2})
	if len(cbs) != 2 || cbs[0].ID != ids[1] || cbs[1].ID != ids[3] {
		t.Errorf("ties: %+v; want IDs %d, %d", cbs, ids[1], ids[3])
	}
}

func callIDs[T any](rs []T, id func(T) string) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = id(r)
	}
	return strings.Join(s, " ")
}

func mark(t *testing.T, b records.Backend) {
	ctx := t.Context()
	cb, err := b.AddCallback(ctx, Callback("c1", T0))
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.AddComplaint(ctx, Complaint("c1", T0))
	if err != nil {
		t.Fatal(err)
	}
	done := T0.Add(time.Hour + 1500*time.Nanosecond)
	want := time.UnixMicro(done.UnixMicro()).UTC()
	for _, by := range []string{"ops:li", "ops:wang"} { // the second mark changes nothing
		if err := b.MarkCallbackDone(ctx, cb.ID, done, by); err != nil {
			t.Fatal(err)
		}
		if err := b.MarkComplaintReplied(ctx, c.ID, done, by); err != nil {
			t.Fatal(err)
		}
		done = done.Add(time.Hour)
	}
	cbs, err := b.Callbacks(ctx, records.Filter{})
	if err != nil || len(cbs) != 1 || !cbs[0].Done || cbs[0].DoneAt != want || cbs[0].DoneBy != "ops:li" {
		t.Fatalf("after done: %+v %v; want done at %v by ops:li", cbs, err, want)
	}
	cs, err := b.Complaints(ctx, records.Filter{})
	if err != nil || len(cs) != 1 || !cs[0].Replied || cs[0].RepliedAt != want || cs[0].RepliedBy != "ops:li" || cs[0].Overdue(T0.Add(48*time.Hour)) {
		t.Fatalf("after replied: %+v %v; want replied at %v by ops:li", cs, err, want)
	}
	if err := b.MarkCallbackDone(ctx, cb.ID, done, strings.Repeat("x", records.MaxTextLen+1)); !errors.Is(err, records.ErrInvalid) {
		t.Errorf("a name too long: %v", err)
	}
	for _, id := range []int64{0, -1, cb.ID + 1000} {
		if err := b.MarkCallbackDone(ctx, id, done, "ops"); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("callback %d done: %v; want not found", id, err)
		}
		if err := b.MarkComplaintReplied(ctx, id, done, "ops"); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("complaint %d replied: %v; want not found", id, err)
		}
	}
}

func summary(t *testing.T, b records.Backend) {
	ctx := t.Context()
	s, err := b.Summary(ctx, T0, time.Time{})
	if err != nil || s != (records.Summary{}) {
		t.Fatalf("empty: %+v %v", s, err)
	}
	add := func(c records.Complaint) records.Complaint {
		t.Helper()
		c, err := b.AddComplaint(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	add(Complaint("early", T0))                             // due T0+24h
	late := add(Complaint("late", T0.Add(2*time.Hour)))     // due T0+26h, replied late
	onTime := add(Complaint("ontime", T0.Add(3*time.Hour))) // replied in time
	quick := Complaint("quick", T0.Add(4*time.Hour))
	quick.Deadline = T0.Add(5 * time.Hour)
	add(quick) // due T0+5h
	if err := b.MarkComplaintReplied(ctx, late.ID, T0.Add(27*time.Hour), "ops"); err != nil {
		t.Fatal(err)
	}
	if err := b.MarkComplaintReplied(ctx, onTime.ID, T0.Add(4*time.Hour), "ops"); err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Duration{0, time.Hour, 2 * time.Hour} {
		cb, err := b.AddCallback(ctx, Callback(fmt.Sprint(i), T0.Add(at)))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := b.MarkCallbackDone(ctx, cb.ID, T0.Add(3*time.Hour), "ops"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, score := range []int{1, 5, 9, 4} {
		if _, err := b.AddSurvey(ctx, Survey(fmt.Sprint(i), T0.Add(time.Duration(i)*time.Hour), score)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		now, since time.Time
		want       records.Summary
	}{
		{T0.Add(5 * time.Hour), time.Time{}, records.Summary{OpenCallbacks: 2, OpenComplaints: 2, Overdue: 0, Complaints: 4, RepliedLate: 1, Surveys: 4, MeanScore: 4.75}},
		{T0.Add(5*time.Hour + time.Microsecond), time.Time{}, records.Summary{OpenCallbacks: 2, OpenComplaints: 2, Overdue: 1, Complaints: 4, RepliedLate: 1, Surveys: 4, MeanScore: 4.75}},
		{T0.Add(25 * time.Hour), T0.Add(time.Hour), records.Summary{OpenCallbacks: 2, OpenComplaints: 2, Overdue: 2, Complaints: 3, RepliedLate: 1, Surveys: 3, MeanScore: 6}},
		{T0.Add(25 * time.Hour), T0.Add(3 * time.Hour), records.Summary{OpenCallbacks: 2, OpenComplaints: 2, Overdue: 2, Complaints: 2, RepliedLate: 0, Surveys: 1, MeanScore: 4}},
		{T0.Add(25 * time.Hour), T0.Add(time.Hour * 100), records.Summary{OpenCallbacks: 2, OpenComplaints: 2, Overdue: 2}},
	} {
		s, err := b.Summary(ctx, tc.now, tc.since)
		if err != nil || s != tc.want {
			t.Errorf("summary at %v since %v:\n got %+v %v\nwant %+v", tc.now, tc.since, s, err, tc.want)
		}
	}
	cs, err := b.Complaints(ctx, records.Filter{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	if o := records.OverdueComplaints(cs, T0.Add(6*time.Hour)); len(o) != 1 || o[0].CallID != "quick" {
		t.Errorf("overdue at +6h: %+v", o)
	}
}

func concurrent(t *testing.T, b records.Backend) {
	ctx := t.Context()
	const workers, each = 8, 20
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[int64]bool{}
	)
	for w := range workers {
		wg.Go(func() { // calls leaving records
			for i := range each {
				at := T0.Add(time.Duration(w*each+i) * time.Second)
				c, err := b.AddCallback(ctx, Callback(fmt.Sprint(w, i), at))
				if err == nil {
					_, err = b.AddSurvey(ctx, Survey(fmt.Sprint(w, i), at, 1+i%9))
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ids[c.ID] = true
				mu.Unlock()
			}
		})
		wg.Go(func() { // ops reading and closing
			for range each {
				cbs, err := b.Callbacks(ctx, records.Filter{Open: true, Limit: 5})
				if err == nil && len(cbs) > 0 {
					err = b.MarkCallbackDone(ctx, cbs[0].ID, T0.Add(time.Hour), "ops")
				}
				if err == nil {
					_, err = b.Summary(ctx, T0, time.Time{})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if len(ids) != workers*each {
		t.Errorf("%d distinct callback IDs; want %d", len(ids), workers*each)
	}
	s, err := b.Summary(ctx, T0, time.Time{})
	if err != nil || s.Surveys != workers*each {
		t.Errorf("summary %+v %v; want %d answers", s, err, workers*each)
	}
}

func cancelled(t *testing.T, b records.Backend) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.AddCallback(ctx, Callback("c", T0)); !errors.Is(err, context.Canceled) {
		t.Errorf("add callback: %v", err)
	}
	if _, err := b.AddComplaint(ctx, Complaint("c", T0)); !errors.Is(err, context.Canceled) {
		t.Errorf("add complaint: %v", err)
	}
	if _, err := b.Callbacks(ctx, records.Filter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("callbacks: %v", err)
	}
	if _, err := b.Summary(ctx, T0, time.Time{}); !errors.Is(err, context.Canceled) {
		t.Errorf("summary: %v", err)
	}
	// Still usable afterwards.
	if _, err := b.AddCallback(t.Context(), Callback("c", T0)); err != nil {
		t.Errorf("add after a cancelled one: %v", err)
	}
}

// recording: a complaint is added being recorded before its audio, and
// finished, or dropped when the caller said nothing; lists filter by state
// and call; interrupted ones are counted open.
func recording(t *testing.T, b records.Backend) {
	ctx := t.Context()
	start := func(id string, at time.Time) records.Complaint {
		t.Helper()
		c := Complaint(id, at)
		c.State, c.Duration = records.Recording, 0
		c, err := b.AddComplaint(ctx, c)
		if err != nil || c.State != records.Recording || c.Recording != "recordings/"+id+".wav" {
			t.Fatalf("start %s: %+v %v", id, c, err)
		}
		return c
	}
	done := start("done", T0)
	cut := start("cut", T0.Add(time.Minute))
	quiet := start("quiet", T0.Add(2*time.Minute))
	start("live", T0.Add(3*time.Minute))
	if _, err := b.AddComplaint(ctx, Complaint("old", T0.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	list := func(f records.Filter) string {
		t.Helper()
		cs, err := b.Complaints(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		s := make([]string, len(cs))
		for i, c := range cs {
			s[i] = c.CallID + ":" + string(c.State)
		}
		return strings.Join(s, " ")
	}
	if got := list(records.Filter{State: records.Recording}); got != "done:recording cut:recording quiet:recording live:recording" {
		t.Errorf("being recorded: %s", got)
	}

	if err := b.FinishComplaint(ctx, done.ID, records.ComplaintEnd{State: records.Recorded, Recording: "recordings/done.wav", Duration: 61*time.Second + 1500}); err != nil {
		t.Fatal(err)
	}
	if err := b.FinishComplaint(ctx, cut.ID, records.ComplaintEnd{State: records.Interrupted, Duration: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := b.DropComplaint(ctx, quiet.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{done.ID, cut.ID, quiet.ID, 0, -1, done.ID + 1000} { // no longer being recorded, or never
		if err := b.FinishComplaint(ctx, id, records.ComplaintEnd{State: records.Recorded}); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("finish %d again: %v; want not found", id, err)
		}
		if err := b.DropComplaint(ctx, id); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("drop %d again: %v; want not found", id, err)
		}
	}
	if err := b.MarkComplaintReplied(ctx, quiet.ID, T0.Add(time.Hour), "ops"); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("reply to a dropped complaint: %v; want not found", err)
	}
	for _, end := range []records.ComplaintEnd{{State: records.Recording}, {State: ""}, {State: records.Recorded, Duration: -1},
		{State: records.Recorded, Recording: "../x.wav"}} {
		if err := b.FinishComplaint(ctx, cut.ID+2, end); !errors.Is(err, records.ErrInvalid) {
			t.Errorf("finish with %+v: %v; want invalid", end, err)
		}
	}

	if got := list(records.Filter{}); got != "old:recorded done:recorded cut:interrupted live:recording" {
		t.Errorf("all: %s", got)
	}
	if got := list(records.Filter{State: records.Interrupted}); got != "cut:interrupted" {
		t.Errorf("interrupted: %s", got)
	}
	if got := list(records.Filter{CallID: "done"}); got != "done:recorded" {
		t.Errorf("by call id: %s", got)
	}
	cs, err := b.Complaints(ctx, records.Filter{CallID: "done"})
	if err != nil || len(cs) != 1 || cs[0].Duration != 61*time.Second+time.Microsecond || cs[0].Recording != "recordings/done.wav" {
		t.Errorf("finished: %+v %v", cs, err)
	}
	cs, err = b.Complaints(ctx, records.Filter{CallID: "cut"})
	if err != nil || len(cs) != 1 || cs[0].Duration != 3*time.Second || cs[0].Recording != "" {
		t.Errorf("interrupted: %+v %v", cs, err)
	}
	s, err := b.Summary(ctx, T0, T0)
	if want := (records.Summary{OpenComplaints: 4, Interrupted: 1, Complaints: 3}); err != nil || s != want {
		t.Errorf("summary %+v %v; want %+v", s, err, want)
	}
	if err := b.MarkComplaintReplied(ctx, cut.ID, T0.Add(time.Hour), "ops"); err != nil {
		t.Fatal(err)
	}
	if s, err := b.Summary(ctx, T0, T0); err != nil || s.Interrupted != 0 || s.OpenComplaints != 3 {
		t.Errorf("summary after the reply %+v %v", s, err)
	}
	cbs, err := b.Callbacks(ctx, records.Filter{CallID: "nobody"})
	if err != nil || len(cbs) != 0 {
		t.Errorf("callbacks of another call: %+v %v", cbs, err)
	}
}
