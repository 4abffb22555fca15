package flows

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Transfer hands the call to a destination named in the config's
// destinations (a PBX queue: supervisors for CS-ESCALATE, a Cantonese
// queue for CS-DIALECT). Only named destinations exist, so no flow can
// send a caller to an arbitrary number (toll fraud, CS-NOT-OURS). kefu asks
// the caller's side to make the call itself (REFER); where that is refused
// it calls the destination and bridges the two. On success the call is no
// longer kefu's and the flow ends; on failure the flow goes on at OnFail
// (default: the following step), e.g. to take a callback number.
type Transfer struct {
	To     string `yaml:"to"` // a key of destinations
	OnFail string `yaml:"on_fail"`
	// RingTime is how long a bridged transfer rings the destination
	// before it gives up (default 20s); the caller then hears Fail.
	RingTime *Duration `yaml:"ring_time"`
	// Fail is said when the transfer did not reach the destination
	// (default transfer.failed), before OnFail.
	Fail string `yaml:"fail"`
}

// DefaultTransferRing is how long a bridged transfer rings by default.
const DefaultTransferRing = 20 * time.Second

// TransferResult says how a transfer went.
type TransferResult struct {
	// How is "refer" when the caller's side took the call over (REFER
	// accepted and the new call answered), "bridge" when kefu connected
	// the caller to the destination itself.
	How string
}

// ErrTransferFailed is the error a Call's Transfer returns when neither a
// REFER nor a bridged call reached the destination; the call is still up.
var ErrTransferFailed = errors.New("transfer failed")

// errTransferred ends Run when a transfer took the call away.
var errTransferred = errors.New("call transferred")

func (t *Transfer) run(ctx context.Context, r *Runner) (string, error) {
	uri := r.cfg.Destinations[t.To]
	r.note("transfer", fmt.Sprintf("to %s (%s)", t.To, uri))
	res, err := r.call.Transfer(ctx, uri, t.RingTime.or(DefaultTransferRing))
	if errors.Is(err, ErrTransferFailed) {
		r.note("transfer", fmt.Sprintf("failed: %v", err))
		r.log.Warn("transfer failed", "to", t.To, "error", err)
		// Say so: the caller is not left to guess why the ringing stopped.
		if _, err := r.play(ctx, orStr(t.Fail, "transfer.failed")); err != nil {
			return "", err
		}
		return t.OnFail, nil
	}
	if err != nil {
		return "", err
	}
	r.note("transfer", "done by "+res.How)
	r.Result.Transferred = t.To
	r.Result.HungUpBy = "transfer"
	return "", errTransferred
}

// exits: success hands the call on; only a failure stays in the flow.
func (t *Transfer) exits() []exit {
	return []exit{{end: endTransferred}, {label: "transfer failed", to: t.OnFail, field: "on_fail"}}
}

func (t *Transfer) check(sc *stepCheck) {
	if _, ok := sc.cfg.Destinations[t.To]; !ok {
		sc.at("to", "no destination named %q: transfers go only to destinations: {NAME: sip:...} in this file (no arbitrary numbers)", t.To)
	}
}

func (t *Transfer) label() string { return "transfer" }

func (t *Transfer) checkPrompts(pc *promptCheck) {
	pc.need(pc.path+".fail", orStr(t.Fail, "transfer.failed"))
	if rt := t.RingTime.or(DefaultTransferRing); rt < 5*time.Second || rt > 2*time.Minute {
		pc.at("ring_time", "ring_time %v: between 5s and 2m", rt)
	}
}
