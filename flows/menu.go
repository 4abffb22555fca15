package flows

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Menu offers keys to choose from (DTMF): the prompt, a wait for a key,
// the invalid-key prompt and a retry on a wrong key or none, up to Retries
// tries; then OnTimeout or OnInvalid (default: the following step).
type Menu struct {
	Prompt    string            `yaml:"prompt"`
	Choices   map[string]string `yaml:"choices"` // key → step
	Timeout   *Duration         `yaml:"timeout"` // for a key after the prompt; default 5s
	Retries   int               `yaml:"retries"` // tries in all; default 3
	Invalid   string            `yaml:"invalid"` // default menu.invalid
	OnTimeout string            `yaml:"on_timeout"`
	OnInvalid string            `yaml:"on_invalid"`
}

// DefaultMenuRetries is how many times a menu is offered.
const DefaultMenuRetries = 3

func (m *Menu) tries() int {
	if m.Retries <= 0 {
		return DefaultMenuRetries
	}
	return m.Retries
}

// run offers the menu. A key stops the prompt and counts; so does a key
// that ended the listen before the menu (typed: the caller who knows the
// menu presses 2 during the greeting and is not made to wait for it).
func (m *Menu) run(ctx context.Context, r *Runner) (string, error) {
	typed := []rune(r.typedNow)
	var next string
	a, err := r.retry(ctx, m.tries(), orStr(m.Invalid, "menu.invalid"), func(n int) (answer, error) {
		var h heard
		var err error
		if n == 0 && len(typed) > 0 {
			h.key = typed[len(typed)-1]
			r.note("choice", fmt.Sprintf("%c pressed before the menu", h.key))
		} else if h, err = r.playKeys(ctx, m.Prompt); err != nil {
			return noAnswer, err
		}
		wait := m.Timeout.or(DefaultSilenceWait)
		if h, err = r.waitKey(ctx, h, wait, keyWaitNote(wait)); err != nil || h.key == 0 {
			return noAnswer, err
		}
		to, ok := m.Choices[string(h.key)]
		if !ok {
			return wrongAnswer, nil
		}
		r.note("choice", fmt.Sprintf("%c -> %s", h.key, to))
		next = to
		return gotAnswer, nil
	})
	switch {
	case err != nil:
		return "", err
	case a == gotAnswer:
		return next, nil
	case a == wrongAnswer:
		return m.OnInvalid, nil
	}
	return m.OnTimeout, nil
}

// exits: each choice in key order, then no key and wrong keys (the
// following step when unset).
func (m *Menu) exits() []exit {
	keys := slices.Sorted(maps.Keys(m.Choices))
	out := make([]exit, 0, len(keys)+2)
	for _, k := range keys {
		out = append(out, exit{label: "key " + k, to: m.Choices[k], field: "choices"})
	}
	return append(out, exit{label: "no key", to: m.OnTimeout, field: "on_timeout"}, exit{label: "wrong keys", to: m.OnInvalid, field: "on_invalid"})
}

func (m *Menu) check(sc *stepCheck) {
	if m.Prompt == "" || len(m.Choices) == 0 {
		sc.at("", "a menu needs a prompt and choices: {\"1\": STEP, ...}")
	}
	for _, k := range slices.Sorted(maps.Keys(m.Choices)) {
		if !isPhoneKey(k) {
			sc.at("choices", "menu key %q is not a phone key (0-9 * # A-D)", k)
		}
	}
	sc.louderClash("choices", slices.Collect(maps.Keys(m.Choices))...)
	sc.bound("timeout", m.Timeout, time.Minute)
}

func (m *Menu) checkPrompts(pc *promptCheck) {
	pc.need(pc.path+".prompt", m.Prompt)
	pc.need(pc.path+".invalid", orStr(m.Invalid, "menu.invalid"))
}

func (m *Menu) label() string { return "menu" }
