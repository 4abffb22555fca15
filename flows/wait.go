package flows

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
)

// waitSpec says what ends a wait of the runner besides the call's end.
type waitSpec struct {
	d time.Duration
	// until ends the wait early when what was heard is enough; nil waits
	// the whole time.
	until func(heard) bool
	// wake ends the wait early, reporting woke; nil never fires.
	wake <-chan struct{}
	// offers ends the wait early too, reporting woke, with the offer of
	// an agent for the caller in r.offer.
	offers <-chan agents.Offer
	// timeline marks a wait that keeps to its deadline (hold music with
	// its announcements): the louder question does not start it again.
	timeline bool
}

// waitFor lets w.d pass while taking the caller's events, and ends early
// as w says. The timer is re-armed for the time left after each event, so
// a virtual clock sees every wait. A louder key pressed meanwhile is
// answered at once with the question whether the caller hears better;
// then, unless the wait keeps a timeline, the caller gets the whole wait
// again to answer.
func (r *Runner) waitFor(ctx context.Context, w waitSpec) (h heard, woke bool, err error) {
	deadline := r.clock.Now().Add(w.d)
	var rest time.Duration // the time the wait had left when the caller held the call
	if r.held {
		rest = w.d
	}
	for {
		left := deadline.Sub(r.clock.Now())
		if r.held {
			// The caller has the call on hold: the wait stands still
			// until they come back (or maxHeld passes).
			left = maxHeld
		}
		if left <= 0 {
			return h, false, nil
		}
		// What is ready already wins over the timer: a virtual clock
		// moves time as soon as it is asked for the timer.
		select {
		case <-w.wake:
			return h, true, nil
		case o, ok := <-w.offers:
			if ok {
				r.offer = &o
			} else {
				r.offersGone = true
			}
			return h, true, nil
		default:
		}
		select {
		case <-ctx.Done():
			return h, false, context.Cause(ctx)
		case <-w.wake:
			return h, true, nil
		case o, ok := <-w.offers:
			if ok {
				r.offer = &o
			} else {
				r.offersGone = true // the ticket left its queue
			}
			return h, true, nil
		case <-r.clock.After(left):
			return h, false, nil
		case ev := <-r.call.Events():
			wasHeld := r.held
			r.event(ev, &h)
			switch {
			case !wasHeld && r.held:
				rest = deadline.Sub(r.clock.Now())
			case wasHeld && !r.held:
				deadline = r.clock.Now().Add(rest)
			}
			if r.louderPending {
				// Ask at once whether the caller hears better.
				r.louderPending = false
				h2, err := r.play(ctx, r.louderQuestion())
				switch {
				case w.timeline && err != nil:
					return h, false, err
				case w.timeline:
					continue
				case err != nil || w.until != nil && (w.until(h2) || w.until(h)):
					return h.merge(h2), false, err
				}
				// Then the caller gets the whole wait again to answer.
				deadline = r.clock.Now().Add(w.d)
				continue
			}
			if w.until != nil && w.until(h) {
				return h, false, nil
			}
		}
	}
}

// maxHeld bounds how long a wait stands still while the caller holds the
// call: a caller who never comes back meets the flow again then.
const maxHeld = 30 * time.Minute

// wait waits up to d for the caller to speak or press a key.
func (r *Runner) wait(ctx context.Context, d time.Duration) (heard, error) {
	r.note("wait", d.String())
	return r.pause(ctx, d, heard.any)
}

// pause waits up to d, ending early when until says what was heard is
// enough.
func (r *Runner) pause(ctx context.Context, d time.Duration, until func(heard) bool) (heard, error) {
	h, _, err := r.waitFor(ctx, waitSpec{d: d, until: until})
	return h, err
}

// sleep lets d pass: only time or the call's end ends it (waiting for the
// caller to hang up first).
func (r *Runner) sleep(ctx context.Context, d time.Duration) error {
	_, _, err := r.waitFor(ctx, waitSpec{d: d})
	return err
}

// keyPressed is a wait condition: the caller pressed a key.
func keyPressed(h heard) bool { return h.key != 0 }

// waitKey waits up to d for a key unless h already has one (pressed during
// the question); what names the wait in the timeline.
func (r *Runner) waitKey(ctx context.Context, h heard, d time.Duration, what string) (heard, error) {
	if h.key != 0 {
		return h, nil
	}
	r.note("wait", what)
	return r.pause(ctx, d, keyPressed)
}

// answer is how one try of a question went.
type answer uint8

const (
	noAnswer    answer = iota // no key (or nothing usable) at all
	wrongAnswer               // a key that is no choice, too few digits
	gotAnswer                 // an answer the verb takes
)

// retry asks a question up to tries times (menu, survey, collect): each
// try plays its question and takes the answer; after a wrong answer the
// next try begins with the invalid prompt, after no answer it simply asks
// again. It returns how the last try went.
func (r *Runner) retry(ctx context.Context, tries int, invalid string, try func(n int) (answer, error)) (answer, error) {
	last := noAnswer
	for n := range tries {
		if n > 0 && last == wrongAnswer {
			if _, err := r.play(ctx, invalid); err != nil {
				return last, err
			}
		}
		a, err := try(n)
		if err != nil || a == gotAnswer {
			return a, err
		}
		last = a
	}
	return last, nil
}

// keyWaitNote names a key wait of d in the timeline.
func keyWaitNote(d time.Duration) string { return fmt.Sprintf("key %v", d) }
