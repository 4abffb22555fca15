package flows

import (
	"context"
	"fmt"
	"github.com/kefu-hotline/kefu/flows/agents"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// Hold is the hold verb (CS-HOLD-ASK, CS-HOLD-APOLOGY, CS-HOLD-RESUME): the
// ask phrase, music in a loop with announcements at offsets from the start
// of the music (one-shot, or periodic), and the resume phrase when the hold
// ends. The music pauses for an announcement and goes on from where it
// paused.
type Hold struct {
	Ask      string     `yaml:"ask"`      // default hold.ask
	Music    string     `yaml:"music"`    // default music.hold
	Resume   string     `yaml:"resume"`   // default hold.resume
	For      *Duration  `yaml:"for"`      // how long the hold lasts; default 3m
	Announce []Announce `yaml:"announce"` // default: hold.apology at 2m, then every 60s
}

// Announce is one announcement of a hold: once at At, or every Every from
// At on.
type Announce struct {
	At     *Duration `yaml:"at"`
	Every  *Duration `yaml:"every"`
	Prompt string    `yaml:"prompt"`
}

// CS-HOLD defaults.
const (
	DefaultHoldFor      = 3 * time.Minute
	DefaultApologyAt    = 2 * time.Minute
	DefaultApologyEvery = 60 * time.Second
	DefaultMusic        = "music.hold"
)

func (h *Hold) announcements() []Announce {
	if len(h.Announce) > 0 {
		return h.Announce
	}
	at, every := Duration(DefaultApologyAt), Duration(DefaultApologyEvery)
	return []Announce{{At: &at, Every: &every, Prompt: "hold.apology"}}
}

// nextAnnouncement returns the first announcement due after offset after
// (strictly), and its offset; ok is false when none is.
func (h *Hold) nextAnnouncement(after time.Duration) (a Announce, at time.Duration, ok bool) {
	for _, an := range h.announcements() {
		t := an.At.or(0)
		if t <= after && an.Every != nil && an.Every.D() > 0 {
			t += ((after-t)/an.Every.D() + 1) * an.Every.D()
		}
		if t > after && (!ok || t < at) {
			a, at, ok = an, t, true
		}
	}
	return a, at, ok
}

// music resolves the hold music: a catalog prompt, or the embedded music.
func (r *Runner) music(id string) (*prompts.Prompt, error) {
	if p, ok := r.cat.Get(id); ok {
		return p, nil
	}
	if id == DefaultMusic {
		return prompts.LoadMusic()
	}
	return nil, fmt.Errorf("hold music %q is neither a prompt nor %s", id, DefaultMusic)
}

func (h *Hold) run(ctx context.Context, r *Runner) (string, error) {
	if _, err := r.play(ctx, orStr(h.Ask, "hold.ask")); err != nil {
		return "", err
	}
	if _, err := r.holdMusic(ctx, h, h.For.or(DefaultHoldFor), nil); err != nil {
		return "", err
	}
	_, err := r.play(ctx, orStr(h.Resume, "hold.resume"))
	return "", err
}

func (h *Hold) exits() []exit { return onward }

func (h *Hold) check(sc *stepCheck) { sc.bound("for", h.For, time.Hour) }

func (h *Hold) checkPrompts(pc *promptCheck) { pc.checkHold(h) }

// lastSaid: every way off hold ends with the resume phrase.
func (h *Hold) lastSaid() string { return orStr(h.Resume, "hold.resume") }

func (h *Hold) label() string { return "hold" }

// holdWake lets something other than time end a hold early: wake fires
// or an agent is offered (offers), and done says whether the hold is over
// (else the wait goes on, wake re-armed); done may take its time (ringing
// the agent) while the music plays on. after runs after each
// announcement (a queue reads out the caller's position there).
type holdWake struct {
	wake   func() <-chan struct{}
	offers <-chan agents.Offer
	done   func(ctx context.Context) (bool, error)
	after  func(ctx context.Context) error
}

// holdMusic plays the music with h's announcements for up to end, or until
// w says the hold is over; it reports whether w ended it.
func (r *Runner) holdMusic(ctx context.Context, h *Hold, end time.Duration, w *holdWake) (bool, error) {
	music, err := r.music(orStr(h.Music, DefaultMusic))
	if err != nil {
		return false, err
	}
	start := r.clock.Now()
	pos, elapsed := 0, time.Duration(0)
	for elapsed < end {
		an, at, ok := h.nextAnnouncement(elapsed)
		until := end
		if ok && at < end {
			until = at
		}
		r.note("music", fmt.Sprintf("%s from frame %d", music.ID, pos))
		stop := r.call.StartLoop(music, pos)
		woken := false
		var werr error
		for {
			var wake <-chan struct{}
			var offers <-chan agents.Offer
			if w != nil {
				wake = w.wake()
				if !r.offersGone {
					offers = w.offers
				}
			}
			_, woke, err := r.waitFor(ctx, waitSpec{d: until - r.clock.Now().Sub(start), wake: wake, offers: offers, timeline: true})
			if err != nil || !woke {
				break
			}
			if woken, werr = w.done(ctx); woken || werr != nil {
				break
			}
		}
		pos = stop()
		if err := context.Cause(ctx); err != nil {
			return false, err
		}
		if werr != nil {
			return false, werr
		}
		if woken {
			return true, nil
		}
		if until == end {
			break
		}
		r.note("announce", fmt.Sprintf("at %v", at))
		if _, err := r.play(ctx, an.Prompt); err != nil {
			return false, err
		}
		if w != nil && w.after != nil {
			if err := w.after(ctx); err != nil {
				return false, err
			}
		}
		elapsed = r.clock.Now().Sub(start)
	}
	return false, nil
}
