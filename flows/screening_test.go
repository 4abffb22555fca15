package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
)

// screeningYAML is a small hotline with a system-down flow and a nuisance
// queue; screening is what the test adds. It has no nuisance flow of its
// own: kefu brings the built-in one.
const screeningYAML = `
queues:
  - name: nuisance
    max_wait: 2m
    yields: true
routes:
  - to: down
    flow: down
  - to: "*"
    flow: hotline
flows:
  hotline:
    steps:
      - name: bye
        say: {prompt: close.bye}
      - name: end
        hangup: {}
  down:
    steps:
      - name: notice
        say: {prompt: system.down}
      - name: bye
        say: {prompt: close.bye}
      - name: end
        hangup: {}
  nuisance_queue:
    steps:
      - name: wait
        queue: {queue: nuisance, quiet: true, on_timeout: fault}
      - name: fault
        say: {prompt: nuisance}
      - name: end
        hangup: {}
`

// screenedBundle parses screeningYAML with screening block sc (YAML, ""
// for none) and screens it over st on clk.
func screenedBundle(t *testing.T, sc string, st screen.Store, clk *screentest.Clock) *Bundle {
	t.Helper()
	cfg, err := Parse("test.yaml", []byte(sc+screeningYAML))
	if err != nil {
		t.Fatal(err)
	}
	b := &Bundle{Config: cfg, Version: "test"}
	if err := b.Screen(st, clk.Now, nil); err != nil {
		t.Fatal(err)
	}
	return b
}

// call admits a call from number to user at at, and serves it (counts it
// once answered) unless refused, or releases it when serve is false (kefu
// refused it after the admission, or the caller cancelled).
func call(t *testing.T, b *Bundle, number, to string, at time.Time, serve bool) Admission {
	t.Helper()
	adm, ref, err := b.Admit(t.Context(), Invite{From: number, To: to, CallID: "c", At: at})
	if err != nil {
		t.Fatal(err)
	}
	if ref == nil && serve {
		if _, err := b.Served(t.Context(), adm); err != nil {
			t.Fatal(err)
		}
	} else {
		b.Release(adm)
	}
	return adm
}

// TestScreeningDefaults: with no screening block the repeat rule counts
// more than 10 calls in 10 minutes, flags for an hour, spares for an hour,
// sends flagged and listed numbers to the nuisance path (the built-in flow:
// the line-fault message twice), and lets withheld numbers through.
func TestScreeningDefaults(t *testing.T) {
	b := screenedBundle(t, "", &screentest.Memory{}, screentest.NewClock(screentest.T0))
	got := b.Screener.Config()
	want := screen.Config{
		Repeat:    screen.Repeat{Calls: 10, Window: 10 * time.Minute, Block: time.Hour, Spare: time.Hour, Action: screen.DefaultAction},
		Anonymous: screen.Action{Kind: screen.Allow},
	}
	if got != want {
		t.Errorf("policy %+v, want %+v", got, want)
	}
	f, ok := b.Config.Flow(b.Config.NuisanceFlow())
	if !ok || f.Name() != "nuisance" || len(f.Steps) != 3 || f.Steps[0].Say.Prompt != "nuisance" || f.Steps[1].Say.Prompt != "nuisance" || f.Steps[2].Hangup == nil {
		t.Fatalf("nuisance flow %+v", f)
	}
	if !b.Config.SystemDown("down") || b.Config.SystemDown("hotline") {
		t.Errorf("system-down flows: down %v, hotline %v", b.Config.SystemDown("down"), b.Config.SystemDown("hotline"))
	}
}

// TestScreeningConfig: the settings parse, and the flows they name must
// exist.
func TestScreeningConfig(t *testing.T) {
	clk := screentest.NewClock(screentest.T0)
	b := screenedBundle(t, `screening:
  repeat_calls: 3
  repeat_window: 1m
  repeat_block: 5m
  repeat_spare: 2h
  repeat_action: reject 486
  anonymous: route
  nuisance_queue: true
  system_down_flows: [down, hotline]
`, &screentest.Memory{}, clk)
	got := b.Screener.Config()
	want := screen.Config{
		Repeat:    screen.Repeat{Calls: 3, Window: time.Minute, Block: 5 * time.Minute, Spare: 2 * time.Hour, Action: screen.Action{Kind: screen.Reject, Code: 486}},
		Anonymous: screen.DefaultAction,
	}
	if got != want {
		t.Errorf("policy %+v, want %+v", got, want)
	}
	if b.Config.NuisanceFlow() != NuisanceQueueFlow || !b.Config.SystemDown("hotline") {
		t.Errorf("nuisance flow %q, hotline system-down %v", b.Config.NuisanceFlow(), b.Config.SystemDown("hotline"))
	}
	// One setting: nuisance_queue overrides the default nuisance_flow.
	if cfg, err := Parse("test.yaml", []byte("screening: {nuisance_flow: nuisance, nuisance_queue: true}\n"+screeningYAML)); err != nil || cfg.NuisanceFlow() != NuisanceQueueFlow {
		t.Errorf("nuisance_queue with nuisance_flow: nuisance: %v", err)
	}
	// A nuisance_flow named nuisance that the file lacks is the built-in one.
	if cfg, err := Parse("test.yaml", []byte("screening: {nuisance_flow: nuisance}\n"+screeningYAML)); err != nil || cfg.Flows["nuisance"] == nil {
		t.Errorf("nuisance_flow: nuisance without the flow: %v", err)
	}
	for _, tc := range []struct{ screening, yaml, err string }{
		{"screening: {nuisance_queue: true}\n", strings.Replace(screeningYAML, "nuisance_queue:\n", "other:\n", 1), `nuisance calls go to flow "nuisance_queue", which does not exist`},
		{"screening: {nuisance_queue: true, nuisance_flow: hotline}\n", screeningYAML, "set one of them"},
		{"screening: {nuisance_flow: gone}\n", screeningYAML, `nuisance calls go to flow "gone", which does not exist`},
		{"screening: {system_down_flows: [outage]}\n", screeningYAML, `system-down flow "outage" does not exist`},
		{"screening: {repeat_calls: -1}\n", screeningYAML, "repeat.calls"},
		{"screening: {repeat_action: allow}\n", screeningYAML, "allow is not an action"},
		{"screening: {repeat_action: drop}\n", screeningYAML, "want allow, reject [CODE] or route"},
	} {
		_, err := Parse("test.yaml", []byte(tc.screening+tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v; want an error about %q", strings.TrimSpace(tc.screening), err, tc.err)
		}
	}
}

// TestAdmitCountsServed: a customer whose calls kefu refused for reasons
// of its own (no media port, no codec: Admit without Served) is never
// taken for a nuisance; the 10th served call is fine, the 11th goes to the
// nuisance path (answered), flags the number and proposes it.
func TestAdmitCountsServed(t *testing.T) {
	st := &screentest.Memory{}
	clk := screentest.NewClock(screentest.T0)
	b := screenedBundle(t, "", st, clk)
	const number = "13812345678"
	for i := range 20 {
		if adm := call(t, b, number, "hotline", screentest.T0.Add(time.Duration(i)*time.Second), false); adm.Flow.Name() != "hotline" {
			t.Fatalf("refused retry %d: flow %s", i+1, adm.Flow.Name())
		}
	}
	for i := range 10 {
		if adm := call(t, b, "+86"+number, "hotline", screentest.T0.Add(time.Minute+time.Duration(i)*time.Second), true); adm.Flow.Name() != "hotline" || adm.Screening.Nuisance() {
			t.Fatalf("served call %d: flow %s %+v", i+1, adm.Flow.Name(), adm.Screening)
		}
	}
	adm, ref, err := b.Admit(t.Context(), Invite{From: number, To: "hotline", At: screentest.T0.Add(2 * time.Minute)})
	if err != nil || ref != nil || adm.Flow.Name() != "nuisance" || adm.Screening.Reason != "repeat" || adm.Screening.Kind != "route" {
		t.Fatalf("11th call: %+v %v %v", adm.Screening, ref, err)
	}
	if fs, _ := st.Flags(t.Context(), screentest.T0.Add(2*time.Minute)); len(fs) != 0 {
		t.Fatalf("flagged before the 11th call was answered: %+v", fs)
	}
	counted, err := b.Served(t.Context(), adm)
	if err != nil || counted.Flag == nil || counted.Calls != 11 || counted.Proposal == nil || counted.Proposal.Number != number {
		t.Fatalf("11th call served: %+v %v", counted, err)
	}
}

// TestAdmitRefusedByRule: with ops' choice of a rejection, the call over
// the limit is refused before the answer (never counted) and flags the
// number all the same.
func TestAdmitRefusedByRule(t *testing.T) {
	st := &screentest.Memory{}
	b := screenedBundle(t, "screening: {repeat_calls: 1, repeat_action: reject}\n", st, screentest.NewClock(screentest.T0))
	call(t, b, "13812345678", "hotline", screentest.T0, true)
	_, ref, err := b.Admit(t.Context(), Invite{From: "13812345678", To: "hotline", At: screentest.T0.Add(time.Second)})
	if err != nil || ref == nil || ref.Code != 603 || ref.By != RefusedByScreening {
		t.Fatalf("refusal %+v %v", ref, err)
	}
	if fs, _ := st.Flags(t.Context(), screentest.T0.Add(time.Second)); len(fs) != 1 || fs[0].Calls != 2 {
		t.Fatalf("flags %+v", fs)
	}
	if n, _, _ := st.CountCalls(t.Context(), "13812345678", screentest.T0.Add(time.Second), time.Minute); n != 1 {
		t.Errorf("%d calls counted, want the one served", n)
	}
}

// TestEndedCutShort: calls kefu cut short — a media timeout, a shutdown,
// a line fault, the system-down flow — spare their number; a caller's
// hang-up does not, nor does a nuisance call dropped.
func TestEndedCutShort(t *testing.T) {
	for _, tc := range []struct {
		name  string
		to    string
		cause error
		cut   bool
	}{
		{"media timeout", "hotline", ErrMediaTimeout, true},
		{"shutdown", "hotline", ErrShutdown, true},
		{"line fault", "hotline", ErrLineFault, true},
		{"system down", "down", ErrCallerHangup, true},
		{"caller hung up", "hotline", ErrCallerHangup, false},
		{"flow ended", "hotline", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &screentest.Memory{}
			b := screenedBundle(t, "", st, screentest.NewClock(screentest.T0))
			adm := call(t, b, "13812345678", tc.to, screentest.T0, true)
			cut, err := b.Ended(t.Context(), adm, tc.cause, screentest.T0.Add(time.Minute))
			if err != nil || cut != tc.cut {
				t.Fatalf("cut short %v %v, want %v", cut, err, tc.cut)
			}
			var last Admission
			for i := range 15 {
				last = call(t, b, "13812345678", "hotline", screentest.T0.Add(2*time.Minute+time.Duration(i)*time.Second), true)
			}
			if spared := last.Screening.Spared == string(screen.ExemptCutShort) && !last.Screening.Nuisance(); spared != tc.cut {
				t.Errorf("15 more calls: last %+v; spared %v, want %v", last.Screening, spared, tc.cut)
			}
		})
	}
	st := &screentest.Memory{}
	b := screenedBundle(t, "", st, screentest.NewClock(screentest.T0))
	if _, err := st.PutEntry(t.Context(), screen.Entry{Pattern: "13812345678", Reason: "r", AddedBy: "ops", Action: screen.DefaultAction}); err != nil {
		t.Fatal(err)
	}
	adm := call(t, b, "13812345678", "hotline", screentest.T0, true)
	if cut, err := b.Ended(t.Context(), adm, ErrMediaTimeout, screentest.T0.Add(time.Minute)); !cut || err != nil {
		t.Fatalf("nuisance call ended: %v %v", cut, err)
	}
	if ex, _ := st.Exemption(t.Context(), "13812345678", screentest.T0); ex != screen.ExemptNone {
		t.Errorf("a nuisance call cut short spares its number: %q", ex)
	}
}

// TestNuisanceQueueSetting: one setting sends routed nuisance calls to the
// nuisance queue's flow.
func TestNuisanceQueueSetting(t *testing.T) {
	st := &screentest.Memory{}
	b := screenedBundle(t, "screening: {nuisance_queue: true}\n", st, screentest.NewClock(screentest.T0))
	if _, err := st.PutEntry(t.Context(), screen.Entry{Pattern: "400*", Reason: "r", AddedBy: "ops", Action: screen.DefaultAction}); err != nil {
		t.Fatal(err)
	}
	if adm := call(t, b, "4001234567", "hotline", screentest.T0, true); adm.Flow.Name() != NuisanceQueueFlow {
		t.Errorf("listed caller runs %s, want %s", adm.Flow.Name(), NuisanceQueueFlow)
	}
	if adm := call(t, b, "13812345678", "hotline", screentest.T0, true); adm.Flow.Name() != "hotline" {
		t.Errorf("a customer runs %s", adm.Flow.Name())
	}
}

// TestAdmitSparesOpenRecords: a caller with an open callback is served on
// their 12th call within minutes (issue 11's redialling customer).
func TestAdmitSparesOpenRecords(t *testing.T) {
	st := &screentest.Memory{}
	b := screenedBundle(t, "", st, screentest.NewClock(screentest.T0))
	if _, err := st.AddCallback(t.Context(), records.Callback{CallID: "c0", Caller: "13812345678", Number: "13812345678", Reason: "system_down", At: screentest.T0}); err != nil {
		t.Fatal(err)
	}
	var adm Admission
	for i := range 12 {
		adm = call(t, b, "13812345678", "hotline", screentest.T0.Add(time.Duration(i)*30*time.Second), true)
	}
	if adm.Flow.Name() != "hotline" || adm.Screening.Spared != "callback" {
		t.Errorf("12th call: flow %s, %+v", adm.Flow.Name(), adm.Screening)
	}
	if c, err := b.Served(t.Context(), Admission{}); err != nil || c.Calls != 0 {
		t.Errorf("serving an unscreened admission: %+v %v", c, err)
	}
}
