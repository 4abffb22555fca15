package flows

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// Collect takes digits from the caller — a callback number — and reads them
// back for confirmation (CS-SYSTEM-DOWN): the prompt; keys up to the end key,
// MaxDigits, or a pause between keys; "与您确认一下,电话号码是" + the digits +
// "对吗?" and the confirm keys (1 yes, 2 again). Confirmed, the number is
// kept in the call variable Var and, when Callback is set, stored as a
// callback request; then OnDone. After Retries tries without a confirmed
// number: OnFail (default: the following step).
type Collect struct {
	Prompt     string    `yaml:"prompt"`      // default callback.ask
	MinDigits  int       `yaml:"min_digits"`  // default 5 (the shortest local number with area code is longer; 5 lets service numbers like 95xxx through)
	MaxDigits  int       `yaml:"max_digits"`  // default 15 (ITU E.164 maximum)
	EndKey     string    `yaml:"end_key"`     // default "#"
	Timeout    *Duration `yaml:"timeout"`     // for the first key after the prompt; default 5s
	InterDigit *Duration `yaml:"inter_digit"` // for each following key; default 4s
	Retries    int       `yaml:"retries"`     // tries in all; default 3
	Confirm    string    `yaml:"confirm"`     // default callback.confirm (the digits follow)
	ConfirmEnd string    `yaml:"confirm_end"` // default callback.confirm.end
	Keys       string    `yaml:"keys"`        // default callback.keys: 1 confirms, 2 enters again
	Invalid    string    `yaml:"invalid"`     // after too few digits; default menu.invalid
	Var        string    `yaml:"var"`         // call variable for the number; default callback_number
	// Callback stores the confirmed number as a callback request with this
	// reason ("system_down", "queue_timeout", ...); "" stores nothing.
	Callback string `yaml:"callback"`
	OnDone   string `yaml:"on_done"`
	OnFail   string `yaml:"on_fail"`
}

// Collect defaults.
const (
	DefaultMinDigits  = 5
	DefaultMaxDigits  = 15
	DefaultInterDigit = 4 * time.Second
	DefaultCollectVar = "callback_number"
)

// VarQueue is the call variable that names the queue the caller waited
// in, kept with a callback taken there.
const VarQueue = "queue"

func (c *Collect) minDigits() int { return orInt(c.MinDigits, DefaultMinDigits) }
func (c *Collect) maxDigits() int { return orInt(c.MaxDigits, DefaultMaxDigits) }
func (c *Collect) endKey() rune   { return []rune(orStr(c.EndKey, "#"))[0] }

func orInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (c *Collect) run(ctx context.Context, r *Runner) (string, error) {
	a, err := r.retry(ctx, orInt(c.Retries, DefaultMenuRetries), orStr(c.Invalid, "menu.invalid"), func(int) (answer, error) {
		h, err := r.playKeys(ctx, orStr(c.Prompt, "callback.ask"))
		if err != nil {
			return noAnswer, err
		}
		digits, err := r.digits(ctx, c, h.keys)
		if err != nil {
			return noAnswer, err
		}
		if len(digits) < c.minDigits() {
			// Some keys but too few: say so; none: just ask again.
			r.note("collect", fmt.Sprintf("%d digits, want at least %d", len(digits), c.minDigits()))
			if len(digits) > 0 {
				return wrongAnswer, nil
			}
			return noAnswer, nil
		}
		ok, err := r.confirmDigits(ctx, c, digits)
		if err != nil || !ok {
			return noAnswer, err
		}
		r.vars[orStr(c.Var, DefaultCollectVar)] = digits
		r.note("collect", "confirmed "+mask(digits))
		if c.Callback != "" {
			if err := r.saveCallback(ctx, c.Callback, digits); err != nil {
				return noAnswer, err
			}
		}
		return gotAnswer, nil
	})
	switch {
	case err != nil:
		return "", err
	case a == gotAnswer:
		return c.OnDone, nil
	}
	return c.OnFail, nil
}

func (c *Collect) exits() []exit {
	return []exit{{label: "confirmed", to: c.OnDone, field: "on_done"}, {label: "no number", to: c.OnFail, field: "on_fail"}}
}

func (c *Collect) check(sc *stepCheck) {
	if c.MinDigits < 0 || c.MaxDigits < 0 || c.MaxDigits > 32 || c.minDigits() > c.maxDigits() {
		sc.at("", "collect: min_digits %d and max_digits %d: want 1 <= min_digits <= max_digits <= 32", c.minDigits(), c.maxDigits())
	}
	if c.EndKey != "" && (!isPhoneKey(c.EndKey) || strings.ContainsAny(c.EndKey, "0123456789")) {
		sc.at("end_key", "end_key %q: use * or # (or A-D), not a digit of the number", c.EndKey)
	}
	if c.Retries < 0 {
		sc.at("retries", "retries must not be negative")
	}
	sc.louderClash("end_key", orStr(c.EndKey, "#"))
	sc.bound("timeout", c.Timeout, time.Minute)
	sc.bound("inter_digit", c.InterDigit, 30*time.Second)
}

func (c *Collect) checkPrompts(pc *promptCheck) {
	for _, id := range []string{orStr(c.Prompt, "callback.ask"), orStr(c.Confirm, "callback.confirm"),
		orStr(c.ConfirmEnd, "callback.confirm.end"), orStr(c.Keys, "callback.keys"), orStr(c.Invalid, "menu.invalid")} {
		pc.need(pc.path, id)
	}
	if _, err := pc.cat.Number("0123456789"); err != nil {
		pc.at("", "the read-back needs the digit recordings: %v", err)
	}
}

func (c *Collect) label() string { return "collect" }

// digits gathers keys until the end key, the maximum, or a pause; typed
// holds the keys pressed during the prompt (type-ahead).
func (r *Runner) digits(ctx context.Context, c *Collect, typed string) (string, error) {
	var b strings.Builder
	add := func(keys string) bool {
		for _, k := range keys {
			switch {
			case k == c.endKey():
				return true
			case k >= '0' && k <= '9':
				b.WriteRune(k)
				if b.Len() >= c.maxDigits() {
					return true
				}
			}
		}
		return false
	}
	if add(typed) {
		return b.String(), nil
	}
	for {
		wait := c.InterDigit.or(DefaultInterDigit)
		if b.Len() == 0 {
			wait = c.Timeout.or(DefaultSilenceWait)
			r.note("wait", "digits "+wait.String())
		}
		h, err := r.pause(ctx, wait, keyPressed)
		if err != nil {
			return "", err
		}
		if h.key == 0 || add(h.keys) {
			return b.String(), nil
		}
	}
}

// confirmDigits reads the digits back and asks for the confirm key. No key
// is asked for again once; 1 confirms, anything else means enter again.
func (r *Runner) confirmDigits(ctx context.Context, c *Collect, digits string) (bool, error) {
	for range 2 {
		// The read-back is heard whole (CS-LISTEN): a caller talking over
		// it does not stop it.
		if _, err := r.playAs(ctx, orStr(c.Confirm, "callback.confirm"), whole); err != nil {
			return false, err
		}
		ps, err := r.cat.Number(digits)
		if err != nil {
			return false, err
		}
		for _, p := range ps {
			if _, err := r.playing(ctx, p.ID, p, whole); err != nil {
				return false, err
			}
		}
		if _, err := r.playAs(ctx, orStr(c.ConfirmEnd, "callback.confirm.end"), whole); err != nil {
			return false, err
		}
		h, err := r.playKeys(ctx, orStr(c.Keys, "callback.keys"))
		if err != nil {
			return false, err
		}
		wait := c.Timeout.or(DefaultSilenceWait)
		if h, err = r.waitKey(ctx, h, wait, "confirm key "+wait.String()); err != nil {
			return false, err
		}
		if h.key != 0 {
			return h.key == '1', nil
		}
	}
	return false, nil
}

// saveCallback stores a confirmed callback number.
func (r *Runner) saveCallback(ctx context.Context, reason, number string) error {
	cb := records.Callback{CallID: r.info.CallID, Caller: r.info.Caller, Number: number, Reason: reason,
		Queue: r.vars[VarQueue], At: r.clock.Now()}
	cb.Joined, cb.Priority = r.place() // the place in line the callback keeps
	if r.records == nil {
		r.log.Warn("no store for callbacks: the callback is only logged", "number", mask(number), "reason", reason)
		return nil
	}
	saved, err := r.records.AddCallback(context.WithoutCancel(ctx), cb)
	if err != nil {
		return fmt.Errorf("store callback: %w", err)
	}
	r.Result.Callback = saved.ID
	r.note("stored", fmt.Sprintf("callback %d (%s)", saved.ID, reason))
	return nil
}

// mask hides all but the last four digits of a number in traces and logs
// (CS-PRIVACY).
func mask(n string) string {
	if len(n) <= 4 {
		return strings.Repeat("*", len(n))
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}
