package callback_test

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/callback"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media/amd"
)

// withAMD is defaults with answering-machine detection on.
func withAMD() callback.Settings {
	s := defaults
	o := amd.DefaultOptions()
	s.AMD = &o
	return s
}

// TestMachine: a callback whose customer's voicemail answers is hung up
// on at the machine's verdict; the agent hears callback.machine and is
// free at once, no wrap-up (the next callback rings them straight away);
// the attempt counts as machine and is made again after the retry, when
// the customer answers in person and is put through (then the queue's
// wrap-up follows). A machine at the last attempt closes it as no answer.
func TestMachine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorldWrap(t, []agents.Agent{fixed("8001", "customers")}, withAMD(), 30*time.Second)
		w.phone.agentAnswer["8001"] = time.Second
		w.phone.scripts["13800000001"] = []custScript{
			{res: callback.Answered, after: 3 * time.Second, answers: "machine"},
			{res: callback.Answered, after: 3 * time.Second, talk: time.Minute, ends: callback.PartyAgent},
		}
		w.phone.scripts["13800000002"] = []custScript{
			{res: callback.Answered, after: 3 * time.Second, talk: time.Minute, ends: callback.PartyAgent},
		}
		w.phone.scripts["13800000003"] = []custScript{
			{res: callback.Answered, after: 2 * time.Second, answers: "machine"},
			{res: callback.Busy, after: 2 * time.Second},
			{res: callback.Answered, after: 2 * time.Second, answers: "machine"},
		}
		w.start()
		start := time.Now()
		a := w.leave("13800000001", "customers", 0, start.Add(-time.Minute))
		b := w.leave("13800000002", "customers", 0, start.Add(-30*time.Second))
		var log []string
		for range 60 * 60 {
			synctest.Wait()
			for _, l := range filter(w.phone.events(), "ring", "dial", "listen", "bridged", "agent 8001 hears callback.machine", "agent 8001 hangs up") {
				log = append(log, time.Since(start).Round(time.Second).String()+" "+l)
			}
			time.Sleep(time.Second)
		}
		want := []string{
			"0s ring 8001 for 1",
			"5s dial 13800000001 via carrier", // the agent's ring (1 s), the whisper
			"8s listen machine",
			"11s agent 8001 hears callback.machine",
			"15s agent 8001 hangs up",
			"15s ring 8001 for 2", // free at once: no wrap-up
			"20s dial 13800000002 via carrier",
			"23s listen ",
			"32s bridged 8001", // after the greeting
			"1m25s agent 8001 hangs up",
			"10m15s ring 8001 for 1", // the retry, 10 min after the machine
			"10m20s dial 13800000001 via carrier",
			"10m23s listen ",
			"10m32s bridged 8001",
			"11m25s agent 8001 hangs up",
		}
		if !slices.Equal(log, want) {
			t.Errorf("log:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
		}
		if got := w.attempts(a.ID); got != "machine answered" || w.outcome(a.ID) != records.OutcomeDone {
			t.Errorf("callback a: attempts %q, outcome %q", got, w.outcome(a.ID))
		}
		if got := w.attempts(b.ID); got != "answered" {
			t.Errorf("callback b: attempts %q", got)
		}
		st, _ := w.board.Agent("8001")
		if st.State != agents.Available {
			t.Errorf("agent %s after the wrap-up", st.State)
		}

		c := w.leave("13800000003", "customers", 0, time.Now())
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := w.attempts(c.ID); got != "machine busy machine" || w.outcome(c.ID) != records.OutcomeNoAnswer {
			t.Errorf("callback c: attempts %q, outcome %q", got, w.outcome(c.ID))
		}
	})
}
