package softphone

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// EvKey is a key press sent to the far end: Via says how (rfc4733 on the
// RTP stream, or info: a SIP INFO, whose response is Code).
const EvKey Kind = "key"

// How keys are sent (Event.Via).
const (
	ViaRFC4733 = "rfc4733"
	ViaInfo    = "info"
)

// keyPressDur is how long a key is held down as a telephone event.
const keyPressDur = 160 * time.Millisecond

// KeyPress is a key to press at a time after the answer.
type KeyPress struct {
	Key rune
	At  time.Duration
}

// ParseKeys reads "*@3s,1@4.5s": keys and when to press them.
func ParseKeys(s string) ([]KeyPress, error) {
	var out []KeyPress
	for _, part := range strings.Split(s, ",") {
		k, at, ok := strings.Cut(strings.TrimSpace(part), "@")
		d, err := time.ParseDuration(at)
		if !ok || err != nil || d < 0 || len([]rune(k)) != 1 || !strings.ContainsRune("0123456789*#ABCD", []rune(k)[0]) {
			return nil, fmt.Errorf("-keys %q: want KEY@TIME,... with keys 0-9 * # A-D, e.g. *@3s", part)
		}
		out = append(out, KeyPress{Key: []rune(k)[0], At: d})
	}
	return out, nil
}

// keyFunc sends one key and returns its timeline event without T.
type keyFunc func(ctx context.Context, key rune) Event

// pressKeys presses each key at its time after answered (on the since
// clock) and reports it, until the media ends.
func (l *leg) pressKeys(keys []KeyPress, answered time.Duration, press keyFunc) {
	for _, kp := range keys {
		t := time.NewTimer(answered + kp.At - l.since())
		select {
		case <-l.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		ev := press(l.ctx, kp.Key)
		if l.ctx.Err() != nil {
			return
		}
		ev.T, ev.Kind, ev.Key = l.since(), EvKey, string(kp.Key)
		l.emit(ev)
	}
}

// pressEvent presses key as an RFC 4733 telephone event on the stream and
// returns once its last packet is out.
func (l *leg) pressEvent(ctx context.Context, key rune) Event {
	if l.send == nil {
		return Event{Via: ViaRFC4733, Error: "no RTP stream to send the key on"}
	}
	done, ok := l.send.press(key, keyPressDur)
	if !ok {
		return Event{Via: ViaRFC4733, Error: "no telephone-event negotiated"}
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
	return Event{Via: ViaRFC4733}
}

// dialogRequester sends a request inside a dialog (client or server side).
type dialogRequester interface {
	Do(ctx context.Context, req *sip.Request) (*sip.Response, error)
}

// remoteTarget is where requests in the dialog dlg go (RFC 3261 12.1.2):
// the Contact of the far end's answer, else the Request-URI of the
// INVITE. sipgo adds the route set (the answer's Record-Route) and sends
// to its first hop. The INVITE's Request-URI is the hotline's address: a
// proxy in front would take an INFO sent there for a new request (and
// answer 404) instead of passing it on in the dialog.
func remoteTarget(dlg *sipgo.DialogClientSession) sip.Uri {
	if res := dlg.InviteResponse; res != nil {
		if ct := res.Contact(); ct != nil {
			return *ct.Address.Clone()
		}
	}
	return dlg.InviteRequest.Recipient
}

// infoKeys presses keys as SIP INFO (application/dtmf-relay) requests in
// the dialog to target.
func infoKeys(dlg dialogRequester, target sip.Uri) keyFunc {
	return func(ctx context.Context, key rune) Event {
		req := sip.NewRequest(sip.INFO, target)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody(fmt.Appendf(nil, "Signal=%c\r\nDuration=160\r\n", key))
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ev := Event{Via: ViaInfo}
		if res, err := dlg.Do(rctx, req); err == nil {
			ev.Code = res.StatusCode
		} else {
			ev.Error = err.Error()
		}
		return ev
	}
}
