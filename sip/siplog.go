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
	// maxLogValue bounds one logged string (bytes, before JSON escaping).
	maxLogValue = 200
	// maxLogAttrs bounds the attributes of one line.
	maxLogAttrs = 12
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
		inner = inner.WithAttrs(h.clean(h.attrs))
	}
	return &safeHandler{inner: inner.WithGroup(name), show: h.show}
}

func (h *safeHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.cleanString(r.Message), r.PC)
	as := append([]slog.Attr(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		as = append(as, a)
		return true
	})
	out.AddAttrs(h.clean(as)...)
	return h.inner.Handle(ctx, out)
}

// clean dedupes attrs by key (the last value wins, in the first one's
// place), renames keys the JSON handler writes itself, bounds their
// number and cleans each value.
func (h *safeHandler) clean(as []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, 0, len(as))
	at := map[string]int{}
	for _, a := range as {
		a.Key = safeKey(a.Key)
		a.Value = h.cleanValue(a.Value)
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

func (h *safeHandler) cleanValue(v slog.Value) slog.Value {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(h.cleanString(v.String()))
	case slog.KindGroup:
		return slog.GroupValue(h.clean(v.Group())...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.StringValue(h.cleanString(x.Error()))
		case []byte:
			return slog.StringValue(h.cleanString(string(x)))
		default:
			return slog.StringValue(h.cleanString(fmt.Sprint(x)))
		}
	}
	return v // numbers, durations, times, booleans
}

// cleanString reduces a raw SIP message (anything with a line break) to
// its first line and its size, masks numbers and bounds the length.
func (h *safeHandler) cleanString(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = fmt.Sprintf("%s [%d bytes]", strings.TrimSpace(s[:i]), len(s))
	}
	if !h.show {
		s = maskNumbers(s)
	}
	return bound(s, maxLogValue)
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

// bound cuts s to at most n bytes on a rune boundary, marking the cut, and
// replaces control characters.
func bound(s string, n int) string {
	cut := false
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if cut {
		s += "…"
	}
	return s
}
