package softphone

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/rtp"
	"github.com/kefu-hotline/kefu/prompts"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// agentRun is kefu agent running in the test, its events on a channel.
type agentRun struct {
	events chan Event
	seen   []Event
	done   chan struct{}
	res    *AgentResult
	err    error
}

// startAgent runs RunAgent until its end or the end of the test.
func startAgent(t *testing.T, cfg AgentConfig) *agentRun {
	t.Helper()
	r := &agentRun{events: make(chan Event, 4096), done: make(chan struct{})}
	cfg.OnEvent = func(e Event) { r.events <- e }
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(r.done)
		r.res, r.err = RunAgent(ctx, cfg)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// wait returns the next event of kind, bounded.
func (r *agentRun) wait(t *testing.T, kind Kind) Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-r.events:
			r.seen = append(r.seen, e)
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event; saw %+v", kind, r.seen)
			return Event{}
		}
	}
}

// finish waits (bounded) for the agent to end and returns all its events.
func (r *agentRun) finish(t *testing.T) []Event {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the agent did not stop")
	}
	return r.res.Events
}

func kinds(evs []Event, k Kind) []Event {
	return slices.DeleteFunc(slices.Clone(evs), func(e Event) bool { return e.Kind != k })
}

// answerCall waits for the answer to an INVITE and acknowledges it; it
// returns the provisional codes seen.
func answerCall(t *testing.T, ctx context.Context, dlg *sipgo.DialogClientSession) []int {
	t.Helper()
	var mu sync.Mutex
	var prov []int
	err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		mu.Lock()
		defer mu.Unlock()
		if r.IsProvisional() {
			prov = append(prov, r.StatusCode)
		}
		return nil
	}})
	if err != nil {
		t.Fatalf("waiting for the agent's answer: %v", err)
	}
	if err := dlg.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	return prov
}

// TestIntegrationAgentAnswer: the agent registers with SHA-256 digest,
// is offered a PCMA call with the caller's identity and queue, rings,
// answers, plays a tone, presses a key as RFC 4733 events, records the
// caller's tone, hangs up after -hangup-after, and un-registers after its
// one call.
func TestIntegrationAgentAnswer(t *testing.T) {
	k := newFakeKefu(t, "kefu-8001-secret", "SHA-256")
	dir := t.TempDir()
	keys, _ := ParseKeys("5@1s")
	r := startAgent(t, AgentConfig{
		Registrar: k.uri(), ID: "8001", Password: "kefu-8001-secret", RecordDir: dir,
		AnswerAfter: 300 * time.Millisecond, HangupAfter: 2500 * time.Millisecond, Calls: 1,
		Playback: Playback{Send: SendClip, Clip: prompts.NewPrompt("beep", "", "beep", sine(400*time.Millisecond, 8000)), ClipName: "beep", Keys: keys},
	})
	if reg := r.wait(t, EvRegistered); reg.Expires != DefaultExpires {
		t.Errorf("registered for %v, want %v", reg.Expires, DefaultExpires)
	}
	if reg := k.waitReg(); reg.code != 200 || reg.alg != "SHA-256" || reg.expires != 600 {
		t.Errorf("registrar saw %+v, want a SHA-256 REGISTER for 600 s", reg)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	peer := newRTPPeer(t)
	dlg := k.invite(ctx, peer.conn, media.CodecPCMA,
		sip.NewHeader("P-Asserted-Identity", `"王先生" <sip:13912345678@kefu.example>`),
		sip.NewHeader("X-Kefu-Queue", "customers"), sip.NewHeader("X-Kefu-Wait", "42"),
		sip.NewHeader("Diversion", "<sip:4008@kefu.example>;reason=unconditional"))
	start := time.Now()
	prov := answerCall(t, ctx, dlg)
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("answered after %v, want -answer-after 300ms", took)
	}
	if len(prov) == 0 || prov[len(prov)-1] != 180 {
		t.Errorf("provisional responses %v, want 180", prov)
	}
	peer.play(ctx, t, dlg.InviteResponse.Body(), media.CodecPCMA, sine(time.Second, 8000))
	select {
	case <-k.byes:
	case <-ctx.Done():
		t.Fatal("the agent did not hang up")
	}
	if reg := k.waitReg(); reg.code != 200 || reg.expires != 0 {
		t.Errorf("last REGISTER %+v, want the un-REGISTER (Expires: 0)", reg)
	}
	evs := r.finish(t)
	if r.err != nil {
		t.Fatalf("agent: %v", r.err)
	}
	for _, e := range evs {
		b, _ := e.MarshalJSON()
		t.Log(string(b))
	}

	off := kinds(evs, EvOffered)
	if len(off) != 1 || off[0].From != "13912345678" || off[0].Display != "customers" || off[0].Queue != "customers" ||
		off[0].Called != "4008" || off[0].Wait != 42*time.Second || off[0].CallID == "" || off[0].Call != 1 {
		t.Errorf("offered = %+v", off)
	}
	ans := kinds(evs, EvAnswered)
	if len(ans) != 1 || ans[0].Codec != "PCMA" || len(kinds(evs, EvRinging)) != 1 {
		t.Fatalf("want one ringing and one PCMA answer, got %+v", ans)
	}
	if key := kinds(evs, EvKey); len(key) != 1 || key[0].Key != "5" || key[0].Via != ViaRFC4733 || !near((key[0].T-ans[0].T).Seconds(), 1.2, 0.2) {
		t.Errorf("key = %+v, want 5 by RFC 4733 about 1 s after the answer (and held 160 ms)", key)
	}
	bye := kinds(evs, EvByeSent)
	if len(bye) != 1 || bye[0].Code != 200 || !near((bye[0].T-ans[0].T).Seconds(), 2.5, 0.2) {
		t.Errorf("bye_sent = %+v, want one 200 at 2.5 s after the answer", bye)
	}
	ends := kinds(evs, EvAudioEnd)
	if len(ends) != 1 || !near(ends[0].Dur.Seconds(), 1, 0.03) {
		t.Errorf("heard %+v, want the caller's 1 s tone", ends)
	}
	last := evs[len(evs)-1]
	if last.Kind != EvDone || last.Calls != 1 || last.Answered != 1 || len(kinds(evs, EvUnregistered)) != 1 {
		t.Errorf("the run must end with unregistered and done (1 call, 1 answered), got %+v", last)
	}
	end := kinds(evs, EvCallEnd)
	if len(end) != 1 || end[0].Packets < 100 || end[0].Sent < 100 {
		t.Fatalf("call_end = %+v", end)
	}

	want := filepath.Join(dir, "1-"+fileSafe(off[0].CallID)+".wav")
	if end[0].File != want {
		t.Errorf("recording %q, want %q", end[0].File, want)
	}
	pcm := readWAV(t, want)
	if got := FindStretches(0, pcm, DetectorConfig{}); len(got) != 1 || !near(got[0].Duration().Seconds(), 1, 0.03) {
		t.Errorf("the recording holds %+v, want the 1 s tone", got)
	}

	// The agent's stream: PCMA audio and the key's telephone events, one
	// sequence, the events sharing one timestamp.
	pkts := peer.received()
	var audio, events int
	var evTS uint32
	for i, p := range pkts {
		if i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Errorf("sequence jumps from %d to %d", pkts[i-1].SequenceNumber, p.SequenceNumber)
			break
		}
		switch p.PayloadType {
		case 8:
			audio++
		case sdp.OfferDTMFPT:
			key, _, _, _, ok := rtp.ParseDTMF(p.Payload)
			if !ok || key != '5' || (events > 0 && p.Timestamp != evTS) {
				t.Errorf("event packet %d: key %c, ts %d", i, key, p.Timestamp)
			}
			evTS = p.Timestamp
			events++
		}
	}
	if audio < 100 || events < 4 {
		t.Errorf("the agent sent %d audio and %d event packets", audio, events)
	}
}

// TestIntegrationAgentCancelRejectBusy: an agent with -no-answer rings
// until the caller cancels (487); one with -reject 603 declines; a second
// offer while a call rings gets 486.
func TestIntegrationAgentCancelRejectBusy(t *testing.T) {
	k := newFakeKefu(t, "pw", "MD5")
	r := startAgent(t, AgentConfig{Registrar: k.uri(), ID: "8002", Password: "pw", NoAnswer: true, Calls: 2})
	r.wait(t, EvRegistered)
	k.waitReg()

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	peer := newRTPPeer(t)
	dlg := k.invite(ctx, peer.conn, media.CodecPCMU)
	ringing := make(chan struct{})
	actx, acancel := context.WithCancel(ctx)
	go func() {
		<-ringing
		r.wait(t, EvRinging)
		// A second offer while the first rings: busy.
		dlg2 := k.invite(ctx, newRTPPeer(t).conn, media.CodecPCMU)
		err := dlg2.WaitAnswer(ctx, sipgo.AnswerOptions{})
		if res, ok := responseOf(err); !ok || res.StatusCode != 486 {
			t.Errorf("second offer: %v, want 486", err)
		}
		acancel()
	}()
	var once sync.Once
	err := dlg.WaitAnswer(actx, sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
		if res.StatusCode == 180 {
			once.Do(func() { close(ringing) })
		}
		return nil
	}})
	if err == nil || dlg.InviteResponse == nil || dlg.InviteResponse.StatusCode != 487 {
		t.Errorf("cancelled offer: %v, %v; want a 487", err, dlg.InviteResponse)
	}
	evs := r.finish(t)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if c := kinds(evs, EvCancelled); len(c) != 1 || c[0].Call != 1 {
		t.Errorf("cancelled = %+v, want call 1", c)
	}
	if rej := kinds(evs, EvRejected); len(rej) != 1 || rej[0].Call != 2 || rej[0].Code != 486 {
		t.Errorf("rejected = %+v, want call 2 busy", rej)
	}
	if len(kinds(evs, EvAnswered)) != 0 || len(kinds(evs, EvUnregistered)) != 1 {
		t.Error("nothing answered; the run ends un-registered")
	}

	// -reject 603.
	k2 := newFakeKefu(t, "pw", "MD5")
	r2 := startAgent(t, AgentConfig{Registrar: k2.uri(), ID: "8003", Password: "pw", Reject: 603, Calls: 1})
	r2.wait(t, EvRegistered)
	k2.waitReg()
	dlg3 := k2.invite(ctx, peer.conn, media.CodecPCMU)
	err = dlg3.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if res, ok := responseOf(err); !ok || res.StatusCode != 603 {
		t.Errorf("-reject 603: %v", err)
	}
	evs = r2.finish(t)
	if rej := kinds(evs, EvRejected); len(rej) != 1 || rej[0].Code != 603 || rej[0].Reason != "Decline" {
		t.Errorf("rejected = %+v, want 603 Decline", rej)
	}
}

// TestIntegrationAgentHold: the caller holds and resumes the call by
// re-INVITE (the agent mirrors the direction and stops sending while
// held), then hangs up.
func TestIntegrationAgentHold(t *testing.T) {
	k := newFakeKefu(t, "pw", "MD5")
	r := startAgent(t, AgentConfig{Registrar: k.uri(), ID: "8004", Password: "pw", Calls: 1})
	r.wait(t, EvRegistered)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	peer := newRTPPeer(t)
	dlg := k.invite(ctx, peer.conn, media.CodecPCMU)
	answerCall(t, ctx, dlg)
	r.wait(t, EvAnswered)

	reinvite := func(dir sdp.Direction) sdp.Direction {
		t.Helper()
		offer := sdp.BuildOffer(sdp.Local{Addr: netip.MustParseAddr("127.0.0.1"), Port: peer.conn.LocalAddr().(*net.UDPAddr).Port,
			Codecs: []media.Codec{media.CodecPCMU}, SessionID: 7, SessionVersion: 2}, true, dir)
		req := sip.NewRequest(sip.INVITE, dlg.InviteResponse.Contact().Address)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(offer)
		res, err := dlg.Do(ctx, req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("re-INVITE %v: %v %v", dir, res, err)
		}
		ack := sip.NewRequest(sip.ACK, dlg.InviteResponse.Contact().Address)
		if err := dlg.WriteRequest(ack); err != nil {
			t.Fatal(err)
		}
		ans, err := sdp.ParseAnswer(res.Body())
		if err != nil {
			t.Fatal(err)
		}
		return ans.Direction.Reverse()
	}
	if got := reinvite(sdp.SendOnly); got != sdp.RecvOnly {
		t.Errorf("hold answered %v, want recvonly", got)
	}
	if h := r.wait(t, EvHold); h.Direction != "recvonly" {
		t.Errorf("hold = %+v", h)
	}
	if got := reinvite(sdp.SendRecv); got != sdp.SendRecv {
		t.Errorf("resume answered %v, want sendrecv", got)
	}
	r.wait(t, EvResume)
	if err := dlg.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	evs := r.finish(t)
	if b := kinds(evs, EvByeReceived); len(b) != 1 || b[0].Call != 1 {
		t.Errorf("bye_received = %+v", b)
	}
}

// TestIntegrationAgentWrongPassword runs kefu agent's command line against
// a registrar that knows another password: it must say 401 and exit 1.
func TestIntegrationAgentWrongPassword(t *testing.T) {
	k := newFakeKefu(t, "right", "MD5")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var out, errb strings.Builder
	code := AgentMain(ctx, []string{"-id", "8001", "-password", "wrong", k.uri()}, &out, &errb)
	if code != ExitFailed || !strings.Contains(errb.String(), "401") || !strings.Contains(errb.String(), "wrong id or password") {
		t.Fatalf("exit %d, stderr %q; want %d and the 401", code, errb.String(), ExitFailed)
	}
	evs := parseTimeline(t, out.String())
	if f := find(evs, "register_failed"); len(f) != 1 || f[0].Code != 401 {
		t.Errorf("register_failed = %+v", f)
	}
	if evs[len(evs)-1].Ev != "done" {
		t.Errorf("the timeline ends with done")
	}
	if reg := k.waitReg(); reg.code != 401 {
		t.Errorf("registrar judged %+v", reg)
	}
}
