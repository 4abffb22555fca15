package screen_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
)

// TestRules runs the shared scenarios on the in-memory store; flows/store
// runs the same ones on SQLite.
func TestRules(t *testing.T) {
	screentest.Rules(t, func(*testing.T) screen.Store { return &screentest.Memory{} })
}

// TestStore runs the store scenarios on the in-memory store, and the
// several-nodes ones with both nodes on one Memory.
func TestStore(t *testing.T) {
	screentest.Store(t, func(*testing.T) screen.Store { return &screentest.Memory{} })
	screentest.Shared(t, func(*testing.T) (a, b screen.Store) {
		m := &screentest.Memory{}
		return m, m
	})
}

func TestAnonymousPolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy screen.Action
		call   screen.Call
		want   screen.Action
		reason screen.Reason
	}{
		{"default allows", screen.Action{}, screen.Call{Anonymous: true}, screen.Action{Kind: screen.Allow}, screen.ReasonNone},
		{"no number is anonymous", screen.Action{Kind: screen.Reject}, screen.Call{}, screen.Action{Kind: screen.Reject, Code: 603}, screen.ReasonAnonymous},
		{"reject 486", screen.Action{Kind: screen.Reject, Code: 486}, screen.Call{Caller: "anonymous", Anonymous: true}, screen.Action{Kind: screen.Reject, Code: 486}, screen.ReasonAnonymous},
		{"route", screen.Action{Kind: screen.Route, Target: "anon-queue"}, screen.Call{Anonymous: true}, screen.Action{Kind: screen.Route, Target: "anon-queue"}, screen.ReasonAnonymous},
		{"a number is not anonymous", screen.Action{Kind: screen.Reject}, screen.Call{Caller: "13812345678"}, screen.Action{Kind: screen.Allow}, screen.ReasonNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &screentest.Memory{}
			s, err := screen.New(st, screen.Config{Anonymous: tc.policy}, screentest.NewClock(screentest.T0).Now)
			if err != nil {
				t.Fatal(err)
			}
			v, err := s.Check(t.Context(), tc.call)
			if err == nil {
				_, err = s.Count(t.Context(), v)
			}
			if err != nil || v.Action != tc.want || v.Reason != tc.reason {
				t.Fatalf("verdict %+v, %v; want %+v (%q)", v, err, tc.want, tc.reason)
			}
			if calls, _ := st.Rows(); tc.call.Caller == "" && calls != 0 {
				t.Errorf("an anonymous call was counted")
			}
		})
	}
}

// TestWithheldButKnown: a withheld call whose number the trunk still
// passes on is matched against the list, but never counted (all withheld
// callers are not one repeat caller).
func TestWithheldButKnown(t *testing.T) {
	st := &screentest.Memory{}
	e := screentest.NewEnv(t, st, screen.Config{Anonymous: screen.Action{Kind: screen.Route, Target: "anon"}})
	e.Add(screen.AddRequest{Pattern: "13812345678", Action: screen.Action{Kind: screen.Reject}})
	v, err := e.S.Check(t.Context(), screen.Call{Caller: "13812345678", Anonymous: true, At: screentest.T0})
	if err != nil || v.Reason != screen.ReasonList || v.Kind != screen.Reject || v.Counts() {
		t.Fatalf("listed withheld caller: %v %v", v, err)
	}
	for i := range 20 {
		v, err := e.S.Check(t.Context(), screen.Call{Caller: "anonymous", Anonymous: true, At: screentest.T0.Add(time.Duration(i) * time.Second)})
		if err == nil {
			_, err = e.S.Count(t.Context(), v)
		}
		if err != nil || v.Reason != screen.ReasonAnonymous || v.Kind != screen.Route || v.Target != "anon" {
			t.Fatalf("anonymous call %d: %v %v", i, v, err)
		}
	}
	if calls, _ := st.Rows(); calls != 0 {
		t.Errorf("%d withheld calls counted", calls)
	}
}

// TestFailOpen: a broken store lets calls through, says so, and keeps the
// number out of the error.
func TestFailOpen(t *testing.T) {
	for _, off := range []bool{false, true} {
		st := &screentest.Memory{Err: fmt.Errorf("disk I/O error: %w", screentest.ErrBroken)}
		s, err := screen.New(st, screen.Config{Repeat: screen.Repeat{Off: off}}, screentest.NewClock(screentest.T0).Now)
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.Check(t.Context(), screen.Call{Caller: "13812345678"})
		if !errors.Is(err, screentest.ErrBroken) || !v.Allowed() || v.Reason != screen.ReasonError {
			t.Fatalf("verdict %v, %v; want allowed with reason error", v, err)
		}
		if strings.Contains(err.Error(), "13812345678") {
			t.Errorf("error shows the number: %v", err)
		}
		if _, err := s.Count(t.Context(), v); v.Counts() && (!errors.Is(err, screentest.ErrBroken) || strings.Contains(err.Error(), "13812345678")) {
			t.Errorf("count on a broken store: %v", err)
		}
	}
}

// TestVerdictLog: verdicts log and print without the number.
func TestVerdictLog(t *testing.T) {
	e := screentest.NewEnv(t, &screentest.Memory{}, screen.Config{})
	en := e.Add(screen.AddRequest{Pattern: "13812345678", Reason: "abuse", AddedBy: "ops"})
	v := e.Call("13812345678", screentest.T0)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("screened", "verdict", v)
	for _, s := range []string{buf.String(), v.String()} {
		if strings.Contains(s, "13812345678") {
			t.Errorf("number in %s", s)
		}
	}
	want := fmt.Sprintf(`"verdict":{"action":"route","target":"nuisance","reason":"list","entry":%d,"pattern":"138******78"}`, en.ID)
	if !strings.Contains(buf.String(), want) {
		t.Errorf("log %s\nwant %s", buf.String(), want)
	}
	if got, want := v.String(), fmt.Sprintf("route nuisance (list entry %d)", en.ID); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for i := range 11 {
		v = e.Call("13987654321", screentest.T0.Add(time.Duration(i)*time.Second))
	}
	if got := v.String(); got != "route nuisance (repeat)" {
		t.Errorf("String() = %q", got)
	}
	buf.Reset()
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("screened", "verdict", v)
	if strings.Contains(buf.String(), "13987654321") || !strings.Contains(buf.String(), `"reason":"repeat"`) {
		t.Errorf("log %s", buf.String())
	}
}

func TestConfig(t *testing.T) {
	s, err := screen.New(&screentest.Memory{}, screen.Config{}, screentest.NewClock(screentest.T0).Now)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Config()
	want := screen.Config{
		Repeat:    screen.Repeat{Calls: 10, Window: 10 * time.Minute, Block: time.Hour, Spare: time.Hour, Action: screen.Action{Kind: screen.Route, Target: "nuisance"}},
		Anonymous: screen.Action{Kind: screen.Allow},
	}
	if got != want {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	noQueue := screen.WithTargets(func(name string) error {
		if name != "nuisance" {
			return errors.New("no such route in the config")
		}
		return nil
	})
	for _, tc := range []struct {
		cfg  screen.Config
		opts []screen.Option
		err  string
	}{
		{screen.Config{Repeat: screen.Repeat{Calls: -1}}, nil, "repeat.calls"},
		{screen.Config{Repeat: screen.Repeat{Window: -time.Second}}, nil, "repeat.window"},
		{screen.Config{Repeat: screen.Repeat{Spare: -time.Second}}, nil, "repeat.spare"},
		{screen.Config{Repeat: screen.Repeat{Action: screen.Action{Kind: screen.Allow}}}, nil, "allow is not an action"},
		{screen.Config{Repeat: screen.Repeat{Action: screen.Action{Kind: screen.Reject, Code: 200}}}, nil, "code: 200"},
		{screen.Config{Anonymous: screen.Action{Kind: "drop"}}, nil, `"drop": use allow, reject or route`},
		{screen.Config{Anonymous: screen.Action{Kind: screen.Route, Target: "sip:x@evil"}}, nil, "not a route name"},
		{screen.Config{Anonymous: screen.Action{Kind: screen.Route, Target: "vip"}}, []screen.Option{noQueue}, "no such route"},
	} {
		_, err := screen.New(&screentest.Memory{}, tc.cfg, screentest.NewClock(screentest.T0).Now, tc.opts...)
		if !errors.Is(err, screen.ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("New(%+v): %v; want an ErrInvalid about %q", tc.cfg, err, tc.err)
		}
	}
	if _, err := screen.New(&screentest.Memory{}, screen.Config{}, nil); err == nil {
		t.Error("New without a clock")
	}
}

// TestPruneOncePerWindow: screening prunes the counters by itself, at most
// once per window.
func TestPruneOncePerWindow(t *testing.T) {
	st := &screentest.Memory{}
	e := screentest.NewEnv(t, st, screen.Config{})
	for i := range 30 {
		e.Call(fmt.Sprintf("1380000%04d", i), screentest.T0.Add(time.Duration(i)*time.Minute))
	}
	// Calls at 0..29 min: prunes at 0, 10, 20 min; the last keeps the
	// calls after 10 min.
	if got := st.Prunes(); got != 3 {
		t.Errorf("%d prunes, want 3", got)
	}
	if calls, _ := st.Rows(); calls != 19 {
		t.Errorf("%d calls kept after the prune at 20 min, want 19 (11..29)", calls)
	}
}

// TestConcurrentOps: ops edit the list while calls are screened (run with
// -race).
func TestConcurrentOps(t *testing.T) {
	e := screentest.NewEnv(t, &screentest.Memory{}, screen.Config{})
	screentest.ConcurrentOps(t, e)
}

// TestRinging: calls let through but not yet answered hold their place:
// the 11th call while ten ring goes to the nuisance path; a released call
// gives its place up, once; an answered call moves from ringing to counted
// without counting twice; a call never reported stops counting after
// PendingTTL.
func TestRinging(t *testing.T) {
	st := &screentest.Memory{}
	e := screentest.NewEnv(t, st, screen.Config{})
	ctx := t.Context()
	check := func(at time.Time) screen.Verdict {
		t.Helper()
		v, err := e.S.Check(ctx, screen.Call{Caller: "13812345678", At: at})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var ringing []screen.Verdict
	for i := range 10 {
		v := check(screentest.T0.Add(time.Duration(i) * time.Second))
		if !v.Allowed() {
			t.Fatalf("ringing call %d: %v", i+1, v)
		}
		ringing = append(ringing, v)
	}
	if v := check(screentest.T0.Add(10 * time.Second)); v.Reason != screen.ReasonRepeat {
		t.Fatalf("11th call while ten ring: %v", v)
	} else {
		e.S.Release(v)
	}
	e.S.Release(ringing[0])
	e.S.Release(ringing[0])
	if v := check(screentest.T0.Add(11 * time.Second)); !v.Allowed() {
		t.Fatalf("a call after one was released: %v", v)
	} else {
		ringing[0] = v
	}
	for _, v := range ringing[:5] {
		if _, err := e.S.Count(ctx, v); err != nil {
			t.Fatal(err)
		}
		e.S.Release(v) // after Count: nothing
	}
	if n, _, _ := st.CountCalls(ctx, "13812345678", screentest.T0.Add(time.Minute), time.Hour); n != 5 {
		t.Fatalf("%d calls counted, want 5", n)
	}
	if v := check(screentest.T0.Add(12 * time.Second)); v.Reason != screen.ReasonRepeat {
		t.Fatalf("5 counted and 5 ringing: %v", v)
	} else {
		e.S.Release(v)
	}
	// A reload's new Screener sees the calls ringing under the old one.
	reloaded, err := screen.New(st, screen.Config{}, e.Clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	reloaded.Continue(e.S)
	if v, err := reloaded.Check(ctx, screen.Call{Caller: "13812345678", At: screentest.T0.Add(12 * time.Second)}); err != nil || v.Reason != screen.ReasonRepeat {
		t.Fatalf("after a reload, 5 counted and 5 ringing: %v %v", v, err)
	} else {
		reloaded.Release(v)
	}
	// The five left ringing were never reported: they stop counting
	// PendingTTL after their INVITE.
	if v := check(screentest.T0.Add(9*time.Second + screen.PendingTTL)); !v.Allowed() {
		t.Fatalf("after PendingTTL: %v", v)
	}
	if calls, _ := st.Rows(); calls != 5 {
		t.Errorf("%d calls stored, want the 5 counted", calls)
	}
}
