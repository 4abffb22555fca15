package callback_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/callback"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/prompts"
)

// TestFollowUpHandOff (CS-FOLLOWUP): with followups.queue set, a
// customer who answers the follow-up's survey with 3 (不满意) has the
// answer stored, hears that they are being put through and the hold
// music, and is put through to the queue's agent, whose phone is rung
// like a callback's and who hears 「回访客户,尾号」 and the last digits. A
// customer who answers 1 is thanked as before. One nobody takes within
// the wait hears the goodbye.
func TestFollowUpHandOff(t *testing.T) {
	cat := followUpPrompts(t)
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
		w.phone.agentAnswer["8001"] = 2 * time.Second
		book := &records.Memory{}
		ctx := t.Context()
		d := &fakeDialer{scripts: []dialScript{
			{res: callback.Answered, key: '3', after: time.Second},
			{res: callback.Answered, key: '1', after: time.Second},
			{res: callback.Answered, key: '3', after: time.Second},
		}}
		fu, err := callback.NewFollowUps(callback.FollowUpConfig{Book: book, Dialer: d,
			Settings: func() (callback.FollowUpSettings, bool) {
				return callback.FollowUpSettings{Trunk: "carrier", Ring: 30 * time.Second, Attempts: 3, Retry: 10 * time.Minute,
					Queue: "customers", AgentKeys: "3", MaxWait: 2 * time.Minute}, true
			},
			Prompts: func() *prompts.Catalog { return cat },
			Queues:  w.qm, Board: w.board, Phone: w.phone})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { fu.Run(rctx); close(done) }()
		resolve := func(name string) records.FollowUp {
			c, _ := book.AddComplaint(ctx, recordstest.Complaint(name, time.Now().Add(-time.Hour)))
			f, err := book.ResolveComplaint(ctx, c.ID, time.Now(), "ops")
			if err != nil {
				t.Fatal(err)
			}
			fu.Poke()
			time.Sleep(10 * time.Minute)
			synctest.Wait()
			return f
		}
		said := func(i int) string {
			d.mu.Lock()
			l := d.lines[i]
			d.mu.Unlock()
			l.mu.Lock()
			defer l.mu.Unlock()
			return strings.Join(l.said, " ")
		}

		f1 := resolve("c1")
		if got, want := said(0), "followup.greet survey.ask queue.connecting music.hold put through to 8001"; got != want {
			t.Errorf("the unsatisfied customer heard %q, want %q", got, want)
		}
		log := strings.Join(filter(w.phone.events(), "ring", "agent 8001"), "; ")
		if want := "ring 8001 for 1; agent 8001 hears followup.whisper"; !strings.HasPrefix(log, want) {
			t.Errorf("the agent: %q, want %q…", log, want)
		}
		if as, _ := book.Surveys(ctx, records.Filter{CallID: records.FollowUpCallID(f1.ComplaintID)}); len(as) != 1 || as[0].Key != "3" {
			t.Errorf("the answer: %+v", as)
		}
		if f := w.qm.Figures(time.Now())[0]; f.Answered.Count != 1 || f.Waiting != 0 {
			t.Errorf("the queue's figures: %+v", f)
		}

		resolve("c2")
		if got, want := said(1), "followup.greet survey.ask survey.thanks followup.bye"; got != want {
			t.Errorf("the satisfied customer heard %q, want %q", got, want)
		}

		if err := w.board.Pause("8001", "meeting"); err != nil {
			t.Fatal(err)
		}
		resolve("c3")
		if got, want := said(2), "followup.greet survey.ask queue.connecting"; !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "followup.bye") ||
			strings.Contains(got, "put through") {
			t.Errorf("the customer nobody took heard %q, want %q… followup.bye", got, want)
		}
		cancel()
		<-done
	})
}
