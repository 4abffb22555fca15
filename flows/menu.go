package flows

import (
	"context"
	"fmt"
	"sort"
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

// targets returns the menu's choices in key order, for graphs and docs.
func (m *Menu) targets() []string {
	keys := make([]string, 0, len(m.Choices))
	for k := range m.Choices {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys)+2)
	for _, k := range keys {
		out = append(out, m.Choices[k])
	}
	return append(out, m.OnTimeout, m.OnInvalid)
}

// menu runs the menu verb. A key stops the prompt and counts; so does a
// key that ended the listen before the menu (typed: the caller who knows
// the menu presses 2 during the greeting and is not made to wait for it).
func (r *Runner) menu(ctx context.Context, m *Menu, typed string) (string, error) {
	lastInvalid := false
	for try := range m.tries() {
		if try > 0 && lastInvalid {
			if _, err := r.play(ctx, orStr(m.Invalid, "menu.invalid")); err != nil {
				return "", err
			}
		}
		var h heard
		var err error
		if k := []rune(typed); try == 0 && len(k) > 0 {
			h.key = k[len(k)-1]
			r.note("choice", fmt.Sprintf("%c pressed before the menu", h.key))
		} else if h, err = r.playKeys(ctx, m.Prompt); err != nil {
			return "", err
		}
		if h.key == 0 {
			r.note("wait", "key "+m.Timeout.or(DefaultSilenceWait).String())
			if h, err = r.pause(ctx, m.Timeout.or(DefaultSilenceWait), func(h heard) bool { return h.key != 0 }); err != nil {
				return "", err
			}
		}
		if h.key == 0 {
			lastInvalid = false
			continue
		}
		if next, ok := m.Choices[string(h.key)]; ok {
			r.note("choice", fmt.Sprintf("%c -> %s", h.key, next))
			return next, nil
		}
		lastInvalid = true
	}
	if lastInvalid {
		return m.OnInvalid, nil
	}
	return m.OnTimeout, nil
}
