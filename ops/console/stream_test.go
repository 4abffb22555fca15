package console

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/sip"
)

// TestStreamFollowsCalls: the stream starts with a snapshot, then a call
// that starts comes in an update, a change of its step comes again with
// only that call, and its end comes as a deletion; a queued caller shows
// in the waiting list and in the call's row, and an agent's change of
// state in the agents.
func TestStreamFollowsCalls(t *testing.T) {
	e := newEnv(t, false)
	a := agents.Status{ID: "8001", Name: "王芳", State: agents.Available, Since: t0}
	e.agents.set(a)
	s := e.open(t, "")
	snap := s.snapshot()
	if len(snap.Calls) != 0 || len(snap.Agents) != 1 || snap.Agents[0].State != agents.Available || snap.Zone != "Asia/Shanghai" ||
		snap.Version != e.bundle.Version || len(snap.Queues) != 1 || snap.Series.SlotMinutes != SlotMinutes || snap.Day.Target != 0.85 {
		t.Fatalf("snapshot %+v", snap)
	}

	c := sip.CallInfo{CallID: "c1@x", Caller: "138****5678", Flow: "f", State: "answered", Started: t0, Answered: t0, Step: "wait (queue)"}
	if _, err := e.bundle.Queues.Join("customers", "c1@x", 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.calls.set(c)
	u := s.until(func(u update) bool { return u.Calls != nil })
	if len(u.Calls.Set) != 1 || u.Calls.Set[0].CallID != "c1@x" || u.Calls.Set[0].Queue != "customers" || u.Calls.Set[0].Position != 1 {
		t.Fatalf("update %+v", u.Calls)
	}
	if len(u.Waiting) != 1 || u.Waiting[0].Caller != "138****5678" || u.Waiting[0].Position != 1 {
		t.Errorf("waiting %+v", u.Waiting)
	}

	// A second call, then a change to the first: the update carries only
	// the first.
	c2 := sip.CallInfo{CallID: "c2@x", Caller: "139****0000", Flow: "f", State: "ringing", Started: t0.Add(time.Second)}
	e.calls.set(c, c2)
	s.until(func(u update) bool { return u.Calls != nil && len(u.Calls.Set) == 1 && u.Calls.Set[0].CallID == "c2@x" })
	c.Line = "speech"
	e.calls.set(c, c2)
	u = s.until(func(u update) bool { return u.Calls != nil })
	if len(u.Calls.Set) != 1 || u.Calls.Set[0].Line != "speech" || len(u.Calls.Del) != 0 {
		t.Fatalf("after a change of line: %+v", u.Calls)
	}

	a.State, a.CallID, a.Queue = agents.OnCall, "c1@x", "customers"
	e.agents.set(a)
	u = s.until(func(u update) bool { return u.Agents != nil })
	if u.Agents[0].State != agents.OnCall || u.Agents[0].Caller != "138****5678" {
		t.Errorf("agents %+v", u.Agents)
	}
	e.calls.set(c2)
	u = s.until(func(u update) bool { return u.Calls != nil })
	if len(u.Calls.Del) != 1 || u.Calls.Del[0] != "c1@x" || len(u.Calls.Set) != 0 {
		t.Fatalf("after the end: %+v", u.Calls)
	}
}

// TestStreamQuiet: nothing changing, nothing is sent (the page counts the
// seconds itself).
func TestStreamQuiet(t *testing.T) {
	e := newEnv(t, false)
	e.calls.set(sip.CallInfo{CallID: "c1@x", Caller: "138****5678", Flow: "f", State: "answered", Started: t0, Seconds: 1})
	s := e.open(t, "")
	s.snapshot()
	// The call's duration grows with every sample; the hub must not send
	// it. Wait for 20 samples, then change something and check that its
	// update is the first one.
	for range 20 {
		e.console.hub.tick()
	}
	e.calls.set(sip.CallInfo{CallID: "c1@x", Caller: "138****5678", Flow: "f", State: "answered", Started: t0, Seconds: 99, Step: "x"})
	u := s.until(func(update) bool { return true })
	if u.Calls == nil || len(u.Calls.Set) != 1 || u.Calls.Set[0].Step != "x" {
		t.Fatalf("first update %+v", u)
	}
}

// TestStreamAuth: with tokens, the stream needs one (401 and a JSON
// error without); a viewer's stream has the numbers masked.
func TestStreamAuth(t *testing.T) {
	e := newEnv(t, true)
	if code, body := e.do(t, "GET", "/console/events", "", ""); code != http.StatusUnauthorized || !strings.Contains(body, `"error"`) {
		t.Fatalf("no token: %d %s", code, body)
	}
	if code, _ := e.do(t, "GET", "/console/events", "nope", ""); code != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d", code)
	}
	e.agents.set(agents.Status{ID: "8001", State: agents.Available, Contact: "sip:8001@10.0.0.7:5060", Since: t0})
	e.calls.set(sip.CallInfo{CallID: "c1@x", Caller: "13812345678", Flow: "f", State: "answered", Started: t0})
	op := e.open(t, operatorSecret).snapshot()
	view := e.open(t, viewerSecret).snapshot()
	if op.Calls[0].Caller != "13812345678" {
		t.Errorf("operator sees %q", op.Calls[0].Caller)
	}
	if view.Calls[0].Caller == "13812345678" || !strings.Contains(view.Calls[0].Caller, "***") {
		t.Errorf("viewer sees %q, want it masked", view.Calls[0].Caller)
	}
	if !view.Calls[0].Started.Equal(t0) {
		t.Errorf("viewer's masking changed a time: %v", view.Calls[0].Started)
	}
}

// TestSlowWatcherDropped: a watcher that does not read is dropped once
// its buffer is full, without holding the others up.
func TestSlowWatcherDropped(t *testing.T) {
	e := newEnv(t, false)
	h := e.console.hub
	w, _, err := h.subscribe()
	if err != nil {
		t.Fatal(err)
	}
	for i := range subBuffer + 2 {
		e.calls.set(sip.CallInfo{CallID: "c", Flow: "f", Started: t0, Step: string(rune('a' + i%26))})
		h.tick()
	}
	select {
	case <-w.gone:
	default:
		t.Fatal("the slow watcher is still subscribed")
	}
	h.unsubscribe(w) // again: no panic
}

// TestChanges: the diff of two samples.
func TestChanges(t *testing.T) {
	a := &live{at: t0, version: "v1", calls: map[string][]byte{"1": []byte(`{"a":1}`), "2": []byte(`{"b":1}`)}, order: []string{"1", "2"},
		waiting: []byte(`[]`), queues: []byte(`[]`), agents: []byte(`[]`), day: []byte(`{}`)}
	b := *a
	if changes(a, &b) != nil {
		t.Error("no change made an update")
	}
	b.calls = map[string][]byte{"2": []byte(`{"b":2}`), "3": []byte(`{"c":1}`)}
	b.order = []string{"3", "2"}
	b.version = "v2"
	f := changes(a, &b)
	if f == nil || f.event != "update" {
		t.Fatal("no update")
	}
	want := `"version":"v2","calls":{"set":[{"c":1},{"b":2}],"del":["1"]}}`
	if !strings.HasSuffix(string(f.data), want) {
		t.Errorf("update %s, want it to end %s", f.data, want)
	}
	if got := string(f.bytes(false)); !strings.HasPrefix(got, "event: update\ndata: {") || !strings.HasSuffix(got, "}\n\n") {
		t.Errorf("on the wire: %q", got)
	}
}
