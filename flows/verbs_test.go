package flows

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

const verbsFlow = `
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: menu
        menu:
          prompt: close.ask
          choices: {"1": callback, "2": complaint, "3": survey}
          on_timeout: end
          on_invalid: end
      - name: callback
        collect:
          callback: system_down
          on_fail: end
        next: saved
      - name: saved
        say: {prompt: callback.saved}
        next: end
      - name: complaint
        record:
          class: billing
          reply_within: 24h
          on_empty: end
      - name: complaint_close
        say: {prompt: complaint.close}
      - name: complaint_end
        hangup: {}
      - name: survey
        survey: {}
      - name: end
        close: {}
        exception: a test flow, where a reply to the closing question ends the call
`

// verbCall runs verbsFlow against a caller whose actions are placed by a
// function of the prompt durations, and returns the simulation, the prompts
// played in order and what was stored.
func verbCall(t *testing.T, script func(d func(id string) time.Duration, number func(string) time.Duration) []CallerAction) (*Simulation, []string, *records.Memory) {
	t.Helper()
	_, cat := loadDefault(t)
	cfg, err := Parse("v.yaml", []byte(verbsFlow))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckPrompts("v.yaml", []byte(verbsFlow), cat); err != nil {
		t.Fatal(err)
	}
	d := func(id string) time.Duration {
		p, ok := cat.Get(id)
		if !ok {
			t.Fatalf("no prompt %s", id)
		}
		return p.Duration()
	}
	number := func(digits string) time.Duration {
		ps, err := cat.Number(digits)
		if err != nil {
			t.Fatal(err)
		}
		var sum time.Duration
		for _, p := range ps {
			sum += p.Duration()
		}
		return sum
	}
	f, _ := cfg.Flow("f")
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s := NewSimulation(start, script(d, number))
	s.Info = CallInfo{Caller: "13812345678", Called: "hotline", CallID: "call-1"}
	mem := &records.Memory{}
	s.Records = mem
	if _, err := s.Run(t.Context(), cfg, f, cat); err != nil && !errors.Is(err, ErrCallerHangup) {
		t.Fatal(err)
	}
	var played []string
	for _, e := range s.Trace {
		if e.What == "prompt_start" {
			played = append(played, e.Detail)
		}
	}
	return s, played, mem
}

func keys(at time.Duration, ks string) []CallerAction {
	var out []CallerAction
	for i, k := range ks {
		out = append(out, CallerAction{At: at + time.Duration(i)*300*time.Millisecond, Event: Event{Kind: Digit, Key: k}})
	}
	return out
}

// TestCollectCallback is CS-SYSTEM-DOWN's callback: the number keyed in is
// read back digit by digit between the confirm phrases, confirmed with 1
// and stored with the caller's number, the reason and the call.
func TestCollectCallback(t *testing.T) {
	_, played, mem := verbCall(t, func(d, number func(string) time.Duration) []CallerAction {
		t1 := d("close.ask") + time.Second
		t2 := t1 + d("callback.ask") + time.Second // after the ask prompt
		readBack := d("callback.confirm") + number("13900001111") + d("callback.confirm.end") + d("callback.keys")
		t3 := t2 + 11*300*time.Millisecond + readBack + time.Second
		return append(append(keys(t1, "1"), keys(t2, "13900001111#")...), keys(t3, "1")...)
	})
	// Read back as a Chinese agent would: 1 as 幺, grouped 3-4-4.
	want := "close.ask callback.ask callback.confirm digit.yao digit.3 digit.9 pause digit.0 digit.0 digit.0 digit.0 pause digit.yao digit.yao digit.yao digit.yao callback.confirm.end callback.keys callback.saved close.ask"
	if got := strings.Join(played[:min(len(played), 20)], " "); got != want {
		t.Errorf("played:\n%s\nwant:\n%s", got, want)
	}
	cbs, err := mem.Callbacks(t.Context(), records.Filter{})
	if err != nil || len(cbs) != 1 {
		t.Fatalf("callbacks %+v, %v", cbs, err)
	}
	if cb := cbs[0]; cb.Number != "13900001111" || cb.Caller != "13812345678" || cb.Reason != "system_down" || cb.CallID != "call-1" {
		t.Errorf("callback %+v", cb)
	}
}

// TestCollectReenter: 2 at the confirmation enters the number again; too
// few digits get the invalid-key prompt; three tries without a confirmed
// number end on on_fail and store nothing.
func TestCollectReenter(t *testing.T) {
	_, played, mem := verbCall(t, func(d, number func(string) time.Duration) []CallerAction {
		t1 := d("close.ask") + time.Second
		t2 := t1 + d("callback.ask") + time.Second
		readBack := d("callback.confirm") + d("callback.confirm.end") + d("callback.keys") + number("55555")
		t3 := t2 + 5*300*time.Millisecond + readBack + time.Second
		// second try: "12#" is too short
		t4 := t3 + 300*time.Millisecond + d("callback.ask") + time.Second
		return append(append(append(keys(t1, "1"), keys(t2, "55555#")...), keys(t3, "2")...), keys(t4, "12#")...)
	})
	got := strings.Join(played, " ")
	for _, want := range []string{
		"digit.5 digit.5 callback.confirm.end callback.keys callback.ask", // 2: enter again
		"callback.ask menu.invalid callback.ask",                          // too short
	} {
		if !strings.Contains(got, want) {
			t.Errorf("played %s\nwant it to contain %s", got, want)
		}
	}
	if cbs, _ := mem.Callbacks(t.Context(), records.Filter{}); len(cbs) != 0 {
		t.Errorf("stored %+v for an unconfirmed number", cbs)
	}
	if !strings.Contains(got, "callback.ask close.ask") {
		t.Errorf("did not close after the failed collect: %s", got)
	}
}

// talk is a caller speaking for dur from at, as the line judge reports it.
func talk(t *testing.T, at, dur time.Duration) []CallerAction {
	t.Helper()
	acts, err := ParseCaller(fmt.Sprintf("speech@%v:%v", at, dur))
	if err != nil {
		t.Fatal(err)
	}
	return acts
}

// TestRecordComplaint is CS-COMPLAINT-CLOSE: the recording starts with the
// prompt; the caller speaks, finishes, and after 5 s of silence is asked
// whether there is more (still recording); nothing more after 5 s ends the
// recording, and the complaint is stored with its class deadline; the
// complaint closing follows.
func TestRecordComplaint(t *testing.T) {
	var ask, more time.Duration
	s, played, mem := verbCall(t, func(d, number func(string) time.Duration) []CallerAction {
		t1 := d("close.ask") + time.Second
		t2 := t1 + d("complaint.ask") + 2*time.Second
		ask, more = d("complaint.ask"), d("complaint.more")
		return append(keys(t1, "2"), talk(t, t2, 20*time.Second)...)
	})
	if got := strings.Join(played, " "); got != "close.ask complaint.ask complaint.more complaint.close" {
		t.Errorf("played %s", got)
	}
	cs, err := mem.Complaints(t.Context(), records.Filter{})
	if err != nil || len(cs) != 1 {
		t.Fatalf("complaints %+v, %v", cs, err)
	}
	c := cs[0]
	if c.Class != "billing" || c.Caller != "13812345678" || c.Deadline.Sub(c.At) != 24*time.Hour {
		t.Errorf("complaint %+v", c)
	}
	// The prompt, 2 s of quiet, 20 s of speech, its end, 5 s of silence,
	// the question, 5 s without an answer.
	if want := ask + 2*time.Second + 20*time.Second + DefaultUtteranceEnd + 5*time.Second + more + 5*time.Second; c.Duration != want {
		t.Errorf("recording lasted %v, want %v", c.Duration, want)
	}
	if !strings.Contains(timeline(s), "record end (nothing more)") {
		t.Errorf("timeline:\n%s", timeline(s))
	}
}

// TestRecordComplaintGoesOn: a caller who pauses 6 s and goes on after
// the question is recorded whole, in one complaint; words said over the
// prompt are kept too (the recording starts first).
func TestRecordComplaintGoesOn(t *testing.T) {
	var ask, more time.Duration
	s, played, mem := verbCall(t, func(d, number func(string) time.Duration) []CallerAction {
		t1 := d("close.ask") + time.Second
		ask, more = d("complaint.ask"), d("complaint.more")
		t2 := t1 + time.Second // over the prompt: it stops, the recording keeps it
		t3 := t2 + 10*time.Second + DefaultUtteranceEnd + 5*time.Second + more + time.Second
		return append(append(keys(t1, "2"), talk(t, t2, 10*time.Second)...), talk(t, t3, 8*time.Second)...)
	})
	if got := strings.Join(played, " "); got != "close.ask complaint.ask complaint.more complaint.more complaint.close" {
		t.Errorf("played %s", got)
	}
	cs, err := mem.Complaints(t.Context(), records.Filter{})
	if err != nil || len(cs) != 1 {
		t.Fatalf("complaints %+v, %v; want one", cs, err)
	}
	talked := time.Second + 10*time.Second + DefaultUtteranceEnd + 5*time.Second + more + time.Second + 8*time.Second
	if want := talked + DefaultUtteranceEnd + 5*time.Second + more + 5*time.Second; cs[0].Duration != want {
		t.Errorf("recording lasted %v, want %v (both parts in one)\n%s", cs[0].Duration, want, timeline(s))
	}
	if ask <= time.Second || !strings.Contains(timeline(s), "barge_in complaint.ask") {
		t.Errorf("the prompt was not stopped by the caller:\n%s", timeline(s))
	}
}

// TestRecordHangupStored: a caller who says the complaint and hangs up
// without the end key has complained all the same: it is stored.
func TestRecordHangupStored(t *testing.T) {
	var ask time.Duration
	_, _, mem := verbCall(t, func(d, _ func(string) time.Duration) []CallerAction {
		t1 := d("close.ask") + time.Second
		t2 := t1 + d("complaint.ask") + time.Second
		ask = d("complaint.ask")
		return append(append(keys(t1, "2"), talk(t, t2, 3*time.Second)...), CallerAction{At: t2 + 4*time.Second, Hangup: true})
	})
	cs, err := mem.Complaints(t.Context(), records.Filter{})
	if want := ask + 5*time.Second; err != nil || len(cs) != 1 || cs[0].Duration != want {
		t.Fatalf("complaints %+v, %v; want one of %v", cs, err, want)
	}
}

// TestRecordNothingSaid: a caller who says nothing leaves no complaint and
// hears the normal closing, not the promise of a reply.
func TestRecordNothingSaid(t *testing.T) {
	_, played, mem := verbCall(t, func(d, number func(string) time.Duration) []CallerAction {
		return keys(d("close.ask")+time.Second, "2")
	})
	if got := strings.Join(played, " "); !strings.HasPrefix(got, "close.ask complaint.ask close.ask") {
		t.Errorf("played %s", got)
	}
	if cs, _ := mem.Complaints(t.Context(), records.Filter{}); len(cs) != 0 {
		t.Errorf("stored %+v", cs)
	}
}

// TestSurvey is CS-SURVEY: a wrong key is asked again, 1 stores score 3
// and is thanked.
func TestSurvey(t *testing.T) {
	_, played, mem := verbCall(t, func(d, number func(string) time.Duration) []CallerAction {
		t1 := d("close.ask") + time.Second
		t2 := t1 + d("survey.ask") + time.Second
		t3 := t2 + d("menu.invalid") + d("survey.ask") + time.Second
		return append(append(keys(t1, "3"), keys(t2, "7")...), keys(t3, "1")...)
	})
	if got := strings.Join(played, " "); !strings.HasPrefix(got, "close.ask survey.ask menu.invalid survey.ask survey.thanks close.ask") {
		t.Errorf("played %s", got)
	}
	as, err := mem.Surveys(t.Context(), records.Filter{})
	if err != nil || len(as) != 1 || as[0].Score != 3 || as[0].Key != "1" || as[0].Survey != "satisfaction" || as[0].Flow != "f" {
		t.Errorf("survey answers %+v, %v", as, err)
	}
}

// TestComplaintCloseLint: after a record step the call must end with the
// complaint closing (CS-COMPLAINT-CLOSE), not the standard one.
func TestComplaintCloseLint(t *testing.T) {
	bad := strings.Replace(verbsFlow, "      - name: complaint_close\n        say: {prompt: complaint.close}\n", "      - name: complaint_close\n        say: {prompt: close.bye}\n", 1)
	_, err := Parse("v.yaml", []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "CS-COMPLAINT-CLOSE") || !strings.Contains(err.Error(), "v.yaml:") {
		t.Fatalf("err = %v, want a positioned CS-COMPLAINT-CLOSE error", err)
	}
	bad = strings.Replace(verbsFlow, "      - name: complaint_close\n        say: {prompt: complaint.close}\n      - name: complaint_end\n        hangup: {}\n",
		"      - name: complaint_close\n        close: {on_more: menu}\n", 1)
	if _, err := Parse("v.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "this closing does not say") {
		t.Fatalf("err = %v, want the closing step flagged", err)
	}
}

// TestVerbErrors: the new verbs' parameters are checked at load.
func TestVerbErrors(t *testing.T) {
	for _, tc := range []struct{ step, want string }{
		{"collect: {min_digits: 9, max_digits: 4}", "want 1 <= min_digits <= max_digits <= 32"},
		{"collect: {end_key: \"5\"}", "not a digit of the number"},
		{"collect: {end_key: \"*\"}", "the louder key"},
		{"record: {max: 3s, silence_end: 5s}", "must be longer than silence_end"},
		{"survey: {scores: {\"1\": 12}}", "scores run from 1 to 9"},
		{"survey: {scores: {\"x\": 1}}", "not a phone key"},
		{"collect: {on_done: nowhere}", "no step named \"nowhere\""},
	} {
		src := "routes: [{to: \"*\", flow: f}]\nflows:\n  f:\n    steps:\n      - name: s\n        " + tc.step + "\n      - name: end\n        close: {}\n        exception: a test flow, where a reply to the closing question ends the call\n"
		_, err := Parse("e.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "e.yaml:6:") {
			t.Errorf("%s: err = %v, want e.yaml:6: … %s", tc.step, err, tc.want)
		}
	}
}

// TestPromiseKept is CS-PROMISE: a complaint class whose reply deadline
// differs from the time its closing promises is refused with the step
// named; a closing phrase that ends on a question is refused too.
func TestPromiseKept(t *testing.T) {
	_, cat := loadDefault(t)
	bad := strings.Replace(verbsFlow, "reply_within: 24h", "reply_within: 12h", 1)
	cfg, err := Parse("v.yaml", []byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckPrompts("v.yaml", []byte(bad), cat); err == nil || !strings.Contains(err.Error(), "promises an answer within 24 hours") || !strings.Contains(err.Error(), "v.yaml:") {
		t.Errorf("err = %v, want the 12 h deadline against the 24 h promise refused", err)
	}
	q := "closing_prompts: [close.bye, close.hangup, complaint.close, weak.bye]\n" + verbsFlow
	cfg, err = Parse("v.yaml", []byte(q))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckPrompts("v.yaml", []byte(q), cat); err == nil || !strings.Contains(err.Error(), `"weak.bye" ends on a question`) {
		t.Errorf("err = %v, want a closing phrase that asks refused", err)
	}
	six := strings.Replace(verbsFlow, "          on_timeout: end\n", "          timeout: 6h\n          on_timeout: end\n", 1)
	if _, err := Parse("v.yaml", []byte(six)); err == nil || !strings.Contains(err.Error(), "beyond the limit of 1m0s") {
		t.Errorf("err = %v, want a menu waiting 6 h refused", err)
	}
}
