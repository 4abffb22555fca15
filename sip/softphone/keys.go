package softphone

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// EvKey is a key press sent to the far end (SIP INFO dtmf-relay): Code is
// the far end's response.
const EvKey Kind = "key"

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
		if !ok || err != nil || len([]rune(k)) != 1 || !strings.ContainsRune("0123456789*#ABCD", []rune(k)[0]) {
			return nil, fmt.Errorf("-keys %q: want KEY@TIME,... with keys 0-9 * # A-D, e.g. *@3s", part)
		}
		out = append(out, KeyPress{Key: []rune(k)[0], At: d})
	}
	return out, nil
}

// pressKeys sends each key as a SIP INFO (application/dtmf-relay) at its
// time after answered, until ctx ends.
func (c *call) pressKeys(ctx context.Context, dlg *sipgo.DialogClientSession, answered time.Duration) {
	for _, kp := range c.cfg.Keys {
		wait := time.Until(c.start.Add(answered + kp.At))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		req := sip.NewRequest(sip.INFO, dlg.InviteRequest.Recipient)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody([]byte(fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", kp.Key)))
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := dlg.Do(rctx, req)
		cancel()
		ev := Event{T: c.since(), Kind: EvKey, Key: string(kp.Key)}
		if err == nil {
			ev.Code = res.StatusCode
		}
		c.emit(ev)
	}
}
