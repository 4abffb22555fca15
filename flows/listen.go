package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Attempt is one rung of a silence ladder: a prompt, then a wait for the
// caller, measured from the end of the prompt.
type Attempt struct {
	Prompt string    `yaml:"prompt"`
	Wait   *Duration `yaml:"wait"`
}

// Listen is the silence ladder (CS-SILENT): each attempt plays its prompt
// and waits; the caller's speech or a key ends the ladder.
type Listen struct {
	Attempts []Attempt `yaml:"attempts"`
	OnSpeech string    `yaml:"on_speech"`
	OnDigit  string    `yaml:"on_digit"`
	// OnWeak is where a caller who speaks too quietly goes (CS-WEAK);
	// empty treats weak speech as speech.
	OnWeak string `yaml:"on_weak"`
	// OnNoise is where a noisy line goes (CS-NOISY); empty treats noise
	// as silence.
	OnNoise string `yaml:"on_noise"`
	// RepeatOn lists conditions (weak, noise, silence) that do not end
	// the ladder but go on to its next attempt after the full wait: the
	// CS-WEAK and CS-NOISY ladders repeat their prompt while the line
	// stays so.
	RepeatOn []string `yaml:"repeat_on"`
	// OnSilence is where to go when every attempt went unanswered; empty
	// means hang up.
	OnSilence string `yaml:"on_silence"`
	// Exception, when set, states why this ladder deliberately breaks a
	// call-script rule (e.g. fewer than three attempts); `kefu check`
	// lists it.
	Exception string `yaml:"exception"`
	// At is when speech leaves the ladder: "end" (the default) once the
	// caller has finished the utterance (CS-LISTEN: kefu never answers
	// while the caller speaks), or "onset" the moment the caller starts.
	At string `yaml:"at"`
}

// When speech leaves a ladder.
const (
	AtEnd   = "end"
	AtOnset = "onset"
)

// The line conditions a listen step tells apart, in order of precedence.
const (
	condSpeech  = "speech"
	condDigit   = "digit"
	condWeak    = "weak"
	condNoise   = "noise"
	condSilence = "silence"
)

// condition reduces what was heard to one condition.
func condition(h heard) string {
	switch {
	case h.speech, h.louder && !h.weak && h.key == 0:
		// The louder key is a caller on the line (CS-SILENT): never
		// told that the phone has no sound.
		return condSpeech
	case h.key != 0:
		return condDigit
	case h.weak:
		return condWeak
	case h.noise:
		return condNoise
	default:
		return condSilence
	}
}

// target returns where a condition leads, "" for the next step, and
// whether the ladder goes on instead.
func (l *Listen) target(cond string) (next string, goOn bool) {
	if slices.Contains(l.RepeatOn, cond) || cond == condSilence {
		return "", true
	}
	switch cond {
	case condWeak:
		if l.OnWeak != "" {
			return l.OnWeak, false
		}
		return l.OnSpeech, false // a weak voice is a caller all the same
	case condNoise:
		if l.OnNoise != "" {
			return l.OnNoise, false
		}
		return "", true // noise alone is nobody speaking
	case condDigit:
		if l.OnDigit != "" {
			return l.OnDigit, false
		}
	}
	return l.OnSpeech, false
}

// run plays a ladder (CS-SILENT, CS-WEAK, CS-NOISY): each attempt's
// prompt, then its wait measured from the prompt's end. A condition that
// leaves the ladder ends the wait at once; silence and the conditions in
// repeat_on go on to the next attempt after the full wait. After the last
// attempt the ladder hangs up, or goes to on_silence.
func (l *Listen) run(ctx context.Context, r *Runner) (string, error) {
	leaves := func(h heard) bool { _, goOn := l.target(condition(h)); return !goOn }
	for _, a := range l.Attempts {
		r.Result.Attempts++
		h, err := r.play(ctx, a.Prompt)
		if err != nil {
			return "", err
		}
		if !leaves(h) {
			r.note("wait", a.Wait.or(DefaultSilenceWait).String())
			if h, err = r.pause(ctx, a.Wait.or(DefaultSilenceWait), leaves); err != nil {
				return "", err
			}
		}
		if l.At != AtOnset && leaves(h) && (h.speech || h.weak) && !h.ended {
			// The caller is speaking: kefu answers when they have
			// finished, not over them.
			h2, err := r.untilQuiet(ctx, PlayOptions{})
			if err != nil {
				return "", err
			}
			h = h.merge(h2)
		}
		if next, goOn := l.target(condition(h)); !goOn {
			if condition(h) == condDigit {
				r.typed = h.keys // a menu next takes them as its answer
			}
			return next, nil
		}
	}
	if r.Result.Condition == "" {
		r.Result.Condition = "silent"
	}
	if l.OnSilence == "" {
		if err := r.hangup(ctx); err != nil {
			return "", err
		}
		return "", errHungUp
	}
	return l.OnSilence, nil
}

// exits: each condition that leaves the ladder, where target sends it;
// silence after the last attempt hangs up unless on_silence is set.
func (l *Listen) exits() []exit {
	var out []exit
	for _, c := range []struct{ cond, label, field string }{
		{condSpeech, "speech", "on_speech"}, {condDigit, "key", "on_digit"}, {condWeak, "weak voice", "on_weak"}, {condNoise, "noise", "on_noise"},
	} {
		if to, goOn := l.target(c.cond); !goOn {
			out = append(out, exit{label: c.label, to: to, field: c.field})
		}
	}
	if l.OnSilence != "" {
		return append(out, exit{label: "silent", to: l.OnSilence, field: "on_silence"})
	}
	return append(out, exit{label: "silent", end: endHangup})
}

func (l *Listen) check(sc *stepCheck) {
	if len(l.Attempts) == 0 {
		sc.at("", "listen needs attempts: each a prompt and a wait")
	}
	for i, a := range l.Attempts {
		if a.Prompt == "" {
			sc.at(fmt.Sprintf("attempts[%d]", i), "attempt needs a prompt")
		}
		sc.bound(fmt.Sprintf("attempts[%d].wait", i), a.Wait, time.Minute)
	}
	hangsUp := l.OnSilence == "" || sc.flow.isHangup(l.OnSilence)
	if hangsUp && len(l.Attempts) < MinSilentAttempts && l.Exception == "" {
		sc.at("attempts", "CS-SILENT: this ladder hangs up after %d attempt(s); the script demands at least %d (add attempts, or state exception: REASON)", len(l.Attempts), MinSilentAttempts)
	}
	if l.At != "" && l.At != AtEnd && l.At != AtOnset {
		sc.at("at", "at %q: speech leaves the ladder at its end (end, the default) or its onset (onset)", l.At)
	}
	for i, c := range l.RepeatOn {
		if c != condWeak && c != condNoise && c != condSilence {
			sc.at(fmt.Sprintf("repeat_on[%d]", i), "repeat_on takes weak, noise or silence, not %q", c)
		}
	}
	// A target that repeat_on shadows is no exit, but still a name.
	if slices.Contains(l.RepeatOn, condWeak) {
		sc.ref("on_weak", l.OnWeak)
	}
	if slices.Contains(l.RepeatOn, condNoise) {
		sc.ref("on_noise", l.OnNoise)
	}
}

// checkPrompts also checks that the media timeout outlasts the ladder: a
// caller sending no RTP must hear the whole ladder.
func (l *Listen) checkPrompts(pc *promptCheck) {
	var total time.Duration
	for k, a := range l.Attempts {
		total += pc.need(fmt.Sprintf("%s.attempts[%d].prompt", pc.path, k), a.Prompt) + a.Wait.or(DefaultSilenceWait)
	}
	if mt := pc.cfg.MediaTimeout.or(DefaultMediaTimeout); mt <= total {
		pc.at("", "media_timeout %v is not longer than this silence ladder (%v): a caller sending no RTP would be cut off before the ladder ends; raise media_timeout", mt, total.Round(time.Millisecond))
	}
}

// walkClose: the ladder hangs up after its last prompt unless on_silence
// is set, and an early exit may follow any attempt's prompt.
func (l *Listen) walkClose(w *closeWalk, i int, last, complaint string) {
	n := len(l.Attempts)
	if n == 0 {
		w.onward(i, last, complaint)
		return
	}
	if l.OnSilence == "" {
		w.hangsUp(i, l.Attempts[n-1].Prompt, complaint)
	}
	for _, a := range l.Attempts {
		for _, j := range w.f.next(i) {
			w.walk(j, a.Prompt, complaint)
		}
	}
}

func (l *Listen) exception() string { return l.Exception }

func (l *Listen) label() string {
	var ps []string
	for _, a := range l.Attempts {
		ps = append(ps, fmt.Sprintf("%s +%v", a.Prompt, a.Wait.or(DefaultSilenceWait)))
	}
	return "listen " + strings.Join(ps, ", ")
}

// judge records the line condition kefu judged and the levels behind it.
func (r *Runner) judge(cond string, ev Event) {
	r.Result.Condition, r.Result.LevelDB, r.Result.FloorDB = cond, ev.LevelDB, ev.FloorDB
}
