package flows

import (
	"context"
	"slices"
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
	case h.speech:
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

// listen runs a ladder (CS-SILENT, CS-WEAK, CS-NOISY): each attempt's
// prompt, then its wait measured from the prompt's end. A condition that
// leaves the ladder ends the wait at once; silence and the conditions in
// repeat_on go on to the next attempt after the full wait. After the last
// attempt the ladder hangs up, or goes to on_silence.
func (r *Runner) listen(ctx context.Context, l *Listen) (string, error) {
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

// judge records the line condition kefu judged and the levels behind it.
func (r *Runner) judge(cond string, ev Event) {
	r.Result.Condition, r.Result.LevelDB, r.Result.FloorDB = cond, ev.LevelDB, ev.FloorDB
}
