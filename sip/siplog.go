package sip

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
)

// Log hygiene for what kefu does not write itself. sipgo logs whole SIP
// messages (the caller's number in From, To, Contact) in lines up to its
// 32 KB read buffer, adds the key "caller" once per layer (so a JSON line
// has it twice), and logs some things through its package-level default
// logger, which is not kefu's. Every logger that can see a SIP message goes
// through safeHandler: numbers masked, a raw message reduced to its first
// line and size, values and lines bounded, keys unique.

const (
	// maxLogValue bounds one logged string, and maxLogValues all of a
	// line's strings but its message, in bytes as JSON writes them
	// (escapes counted): with maxLogAttrs keys of 40 bytes at most, a
	// line stays under 2 KB.
	maxLogValue  = 200
	maxLogValues = 1000
	maxLogAttrs  = 12
	// minMaskedDigits is the shortest run of digits masked as a number:
	// shorter runs are ports, IP address parts, counts.
	minMaskedDigits = 6
)

func init() {
	// sipgo's own default logger (connection bookkeeping, unhandled
	// messages) writes to slog.Default(), which `kefu run` makes its JSON
	// logger; it is set here once, before any sipgo object exists, since
	// sipgo reads it without synchronisation.
	sip.SetDefaultLogger(slog.New(levelFilter{newSafeHandler(defaultHandler{}, false), slog.LevelWarn}))
}

// defaultHandler forwards to slog.Default's handler of the moment.
type defaultHandler struct{}

func (defaultHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return slog.Default().Handler().Enabled(ctx, l)
}

func (defaultHandler) Handle(ctx context.Context, r slog.Record) error {
	return slog.Default().Handler().Handle(ctx, r)
}

func (defaultHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return slog.Default().Handler().WithAttrs(as)
}

func (defaultHandler) WithGroup(name string) slog.Handler {
	return slog.Default().Handler().WithGroup(name)
}

// safeHandler cleans records before its inner handler writes them.
type safeHandler struct {
	inner slog.Handler
	show  bool        // leave numbers unmasked (Config.ShowNumbers)
	attrs []slog.Attr // from WithAttrs: added at Handle, so keys stay unique
}

func newSafeHandler(inner slog.Handler, show bool) *safeHandler {
	return &safeHandler{inner: inner, show: show}
}

func (h *safeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *safeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *safeHandler) WithGroup(name string) slog.Handler {
	inner := h.inner
	if len(h.attrs) > 0 {
		budget := maxLogValues
		inner = inner.WithAttrs(h.clean(h.attrs, &budget))
	}
	return &safeHandler{inner: inner.WithGroup(name), show: h.show}
}

func (h *safeHandler) Handle(ctx context.Context, r slog.Record) error {
	msgBudget := maxLogValue
	out := slog.NewRecord(r.Time, r.Level, h.cleanString(r.Message, &msgBudget), r.PC)
	as := append([]slog.Attr(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		as = append(as, a)
		return true
	})
	budget := maxLogValues
	out.AddAttrs(h.clean(as, &budget)...)
	return h.inner.Handle(ctx, out)
}

// clean dedupes attrs by key (the last value wins, in the first one's
// place), renames keys the JSON handler writes itself, bounds their
// number and cleans each value, its strings within budget.
func (h *safeHandler) clean(as []slog.Attr, budget *int) []slog.Attr {
	out := make([]slog.Attr, 0, len(as))
	at := map[string]int{}
	for _, a := range as {
		a.Key = safeKey(a.Key)
		a.Value = h.cleanValue(a.Value, budget)
		if i, ok := at[a.Key]; ok {
			out[i] = a
			continue
		}
		if len(out) == maxLogAttrs {
			continue
		}
		at[a.Key] = len(out)
		out = append(out, a)
	}
	return out
}

func safeKey(k string) string {
	switch k {
	case slog.TimeKey, slog.LevelKey, slog.MessageKey, slog.SourceKey:
		return "sip_" + k
	}
	if len(k) > 40 {
		k = k[:40]
	}
	return k
}

func (h *safeHandler) cleanValue(v slog.Value, budget *int) slog.Value {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(h.cleanString(v.String(), budget))
	case slog.KindGroup:
		return slog.GroupValue(h.clean(v.Group(), budget)...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.StringValue(h.cleanString(x.Error(), budget))
		case []byte:
			return slog.StringValue(h.cleanString(string(x), budget))
		default:
			return slog.StringValue(h.cleanString(fmt.Sprint(x), budget))
		}
	}
	return v // numbers, durations, times, booleans
}

// cleanString reduces a raw SIP message (anything with a line break) to
// its first line and its size, masks numbers and bounds the length to
// maxLogValue and what is left of budget.
func (h *safeHandler) cleanString(s string, budget *int) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = fmt.Sprintf("%s [%d bytes]", strings.TrimSpace(s[:i]), len(s))
	}
	if !h.show {
		s = maskNumbers(s)
	}
	s, used := bound(s, min(maxLogValue, *budget))
	*budget -= used
	return s
}

// maskNumbers masks every run of minMaskedDigits or more digits (a '+'
// before it included) as flows.MaskNumber masks a caller number.
func maskNumbers(s string) string {
	var b strings.Builder
	masked := false
	for i := 0; i < len(s); {
		j := i
		if s[j] == '+' {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		switch {
		case k-j >= minMaskedDigits:
			b.WriteString(flows.MaskNumber(s[i:k]))
			masked = true
		case k == i:
			k++ // neither a digit nor '+'
			fallthrough
		default:
			b.WriteString(s[i:k])
		}
		i = k
	}
	if !masked {
		return s
	}
	return b.String()
}

// bound cuts s where JSON would write more than n bytes of it (escapes
// counted), on a rune boundary, marking the cut; control characters become
// spaces. It returns the result and what JSON will write of it.
func bound(s string, n int) (string, int) {
	var b strings.Builder
	used := 0
	for i, r := range s {
		c := jsonCost(r, s[i:])
		if used+c > n {
			b.WriteString("…")
			return b.String(), used + 3
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
		used += c
	}
	return b.String(), used
}

// jsonCost is how many bytes encoding/json (and slog's JSON handler) write
// for r, the start of rest.
func jsonCost(r rune, rest string) int {
	switch {
	case r == utf8.RuneError:
		if _, size := utf8.DecodeRuneInString(rest); size == 1 {
			return 6 // an invalid byte: \ufffd
		}
		return 3
	case r == '<', r == '>', r == '&', r == 0x2028, r == 0x2029:
		return 6
	case r == '"', r == '\\':
		return 2
	case r < 0x20 || r == 0x7f:
		return 1 // written as a space
	}
	return utf8.RuneLen(r)
}
