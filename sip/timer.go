package sip

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Session timers (RFC 4028). A trunk that wants to know its calls are
// alive asks for a session interval in Session-Expires (Asterisk with
// timers=require also sends Require: timer) and says which side refreshes
// the session: the refresher sends a re-INVITE or an UPDATE before half the
// interval has passed; the other side ends the call when no refresh came by
// the interval's end minus a margin. kefu takes either role, as UAS of the
// caller's dialog (call.go) and as UAC of the calls it places (timer_leg.go).
//
// sessionTimer holds one dialog's negotiated state; its owner (the call's
// owner goroutine, or a leg's refresher) keeps it and reads its timer.

// minSE is the smallest session interval kefu accepts: RFC 4028's floor
// and default (section 4). A request asking for less gets 422 with Min-SE.
const minSE = 90 * time.Second

// maxSE bounds the session intervals kefu reads, so that the arithmetic on
// them cannot overflow (a day is more than any trunk asks for).
const maxSE = 24 * time.Hour

// timerTag is the option tag of session timers.
const timerTag = "timer"

// headerGetter is what the parsing below needs of a request or response.
type headerGetter interface {
	GetHeaders(name string) []sip.Header
}

// headerValues returns the values of every header called name or its
// compact form (short: "" for none), split at commas.
func headerValues(m headerGetter, name, short string) []string {
	hs := m.GetHeaders(name)
	if short != "" {
		hs = append(hs, m.GetHeaders(short)...)
	}
	var vs []string
	for _, h := range hs {
		for v := range strings.SplitSeq(h.Value(), ",") {
			if v = strings.TrimSpace(v); v != "" {
				vs = append(vs, v)
			}
		}
	}
	return vs
}

// hasOptionTag reports whether a Supported or Require header of m names
// tag.
func hasOptionTag(m headerGetter, tag string) bool {
	for _, v := range append(headerValues(m, "Supported", "k"), headerValues(m, "Require", "")...) {
		if strings.EqualFold(v, tag) {
			return true
		}
	}
	return false
}

// timerHeaders is what a request or response says about session timers.
type timerHeaders struct {
	interval  time.Duration // Session-Expires; 0: none
	refresher string        // its refresher parameter: "uac", "uas" or ""
	minSE     time.Duration // Min-SE; 0: none
	supported bool          // the sender supports timer (Supported or Require)
}

// readTimerHeaders reads Session-Expires (or x), Min-SE and the timer
// option tag of m. A Session-Expires or Min-SE that does not parse is an
// error (400).
func readTimerHeaders(m headerGetter) (timerHeaders, error) {
	th := timerHeaders{supported: hasOptionTag(m, timerTag)}
	if v := firstValue(m, "Session-Expires", "x"); v != "" {
		secs, params, err := deltaSeconds(v)
		if err != nil {
			return th, fmt.Errorf("Session-Expires %q: %w", v, err)
		}
		th.interval = secs
		for _, p := range params {
			k, val, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "refresher") {
				switch r := strings.ToLower(strings.TrimSpace(val)); r {
				case "uac", "uas":
					th.refresher = r
				default:
					return th, fmt.Errorf("Session-Expires %q: refresher must be uac or uas", v)
				}
			}
		}
	}
	if v := firstValue(m, "Min-SE", ""); v != "" {
		secs, _, err := deltaSeconds(v)
		if err != nil {
			return th, fmt.Errorf("Min-SE %q: %w", v, err)
		}
		th.minSE = secs
	}
	return th, nil
}

// firstValue is the value of m's first header called name or short.
func firstValue(m headerGetter, name, short string) string {
	if hs := m.GetHeaders(name); len(hs) > 0 {
		return strings.TrimSpace(hs[0].Value())
	}
	if short != "" {
		if hs := m.GetHeaders(short); len(hs) > 0 {
			return strings.TrimSpace(hs[0].Value())
		}
	}
	return ""
}

// deltaSeconds reads "delta-seconds *(; param)": the duration, capped at
// maxSE, and the parameters.
func deltaSeconds(v string) (time.Duration, []string, error) {
	parts := strings.Split(v, ";")
	s := strings.TrimSpace(parts[0])
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, nil, fmt.Errorf("not delta-seconds")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > uint64(maxSE/time.Second) {
		n = uint64(maxSE / time.Second)
	}
	return time.Duration(n) * time.Second, parts[1:], nil
}

// seconds writes d as delta-seconds.
func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// sessionTimer is the session timer of one dialog, kept by its owner.
type sessionTimer struct {
	interval  time.Duration // the session interval; 0: no session timer
	refresher bool          // kefu refreshes; else the peer does
	peer      bool          // the peer supports timer: our 2xx say Require: timer
	minSE     time.Duration // the largest Min-SE either side asked for, at least minSE
	expires   time.Time     // when the session expires without a refresh
	timer     *time.Timer   // the next refresh (kefu's) or the expiry check (the peer's)
	inFlight  bool          // a refresh of kefu's awaits its final response
	retries   int           // 422s and 491s met by the refresh in flight
}

// active reports whether the dialog has a session timer.
func (st *sessionTimer) active() bool { return st.interval > 0 }

// asUAS applies the session-timer headers of a request kefu answers (the
// INVITE, a re-INVITE, an UPDATE): the 422 to send when the interval is
// too small, else nil, and the state takes the request's terms. A request
// without Session-Expires turns the timer off (RFC 4028 9: each refresh
// negotiates anew).
func (st *sessionTimer) asUAS(th timerHeaders) *statusError {
	st.minSE = max(minSE, th.minSE, st.minSE)
	if th.interval == 0 {
		st.interval = 0
		return nil
	}
	if th.interval < minSE {
		return refuse(422, "the session interval is below kefu's Min-SE",
			sip.NewHeader("Min-SE", seconds(minSE)))
	}
	st.interval = th.interval
	st.peer = th.supported
	switch th.refresher {
	case "uas":
		st.refresher = true
	case "uac":
		st.refresher = false
	default:
		// kefu picks: the peer refreshes when it supports timer; else it
		// cannot, and kefu must (RFC 4028 9).
		st.refresher = !th.supported
	}
	return nil
}

// addUAS adds the session-timer headers of kefu's 2xx (RFC 4028 9):
// Session-Expires with the refresher, and Require: timer when the peer
// supports it. Nothing when there is no session timer.
func (st *sessionTimer) addUAS(res *sip.Response) {
	if !st.active() {
		return
	}
	who := "uac"
	if st.refresher {
		who = "uas"
	}
	res.AppendHeader(sip.NewHeader("Session-Expires", seconds(st.interval)+";refresher="+who))
	if st.peer {
		res.AppendHeader(sip.NewHeader("Require", timerTag))
	}
}

// addUAC adds the headers of a refresh kefu sends as the refresher:
// Session-Expires with refresher=uac (kefu goes on refreshing), Min-SE and
// Supported: timer.
func (st *sessionTimer) addUAC(req *sip.Request) {
	req.AppendHeader(sip.NewHeader("Supported", timerTag))
	req.AppendHeader(sip.NewHeader("Session-Expires", seconds(st.interval)+";refresher=uac"))
	req.AppendHeader(sip.NewHeader("Min-SE", seconds(st.minSE)))
}

// asUAC applies the 2xx to a request kefu sent with Supported: timer (a
// refresh, or the INVITE of a leg): the response's Session-Expires decides
// the interval and who refreshes; without one there is no session timer
// (RFC 4028 7.2).
func (st *sessionTimer) asUAC(res *sip.Response) error {
	th, err := readTimerHeaders(res)
	if err != nil {
		st.interval = 0
		return err
	}
	st.minSE = max(minSE, th.minSE, st.minSE)
	if th.interval == 0 {
		st.interval = 0
		return nil
	}
	st.interval = max(th.interval, minSE)
	st.peer = st.peer || th.supported
	st.refresher = th.refresher != "uas" // uac, or missing: kefu, the UAC
	return nil
}

// tooSmall takes a 422 to kefu's refresh: the interval grows to the
// Min-SE it names (RFC 4028 7.3). It reports false when the 422 names
// nothing larger, and retrying would meet the same answer.
func (st *sessionTimer) tooSmall(res *sip.Response) bool {
	th, err := readTimerHeaders(res)
	if err != nil || th.minSE <= st.interval {
		return false
	}
	st.minSE = max(st.minSE, th.minSE)
	st.interval = th.minSE
	return true
}

// margin is how long before the expiry the side that does not refresh
// gives up (RFC 4028 10: the smaller of 32 seconds and a third of the
// interval).
func (st *sessionTimer) margin() time.Duration { return min(32*time.Second, st.interval/3) }

// refreshed starts a new session interval at now (a refresh went through,
// or the session began): the timer fires at half the interval when kefu
// refreshes, at the expiry minus the margin when the peer does. It stops
// the timer when there is none.
func (st *sessionTimer) refreshed(now time.Time) {
	st.inFlight, st.retries = false, 0
	if !st.active() {
		st.stop()
		return
	}
	st.expires = now.Add(st.interval)
	if st.refresher {
		st.arm(st.interval / 2)
	} else {
		st.arm(st.interval - st.margin())
	}
}

// failed schedules what follows a refresh of kefu's that did not go
// through, at now: another try halfway to the last moment, or the end
// there.
func (st *sessionTimer) failed(now time.Time) {
	st.inFlight = false
	last := st.expires.Add(-st.margin())
	if wait := last.Sub(now) / 2; wait >= time.Second {
		st.arm(wait)
		return
	}
	st.arm(max(last.Sub(now), 0))
}

// glare schedules a retry after a 491 (RFC 3261 14.1: kefu does not own
// the Call-ID of the caller's dialog: 2.1 to 4 s).
func (st *sessionTimer) glare() {
	st.inFlight = false
	st.arm(2100*time.Millisecond + rand.N(1900*time.Millisecond))
}

// expired reports whether the session is over at now: the peer did not
// refresh in time, or kefu's refreshes failed until the last moment.
func (st *sessionTimer) expired(now time.Time) bool {
	return st.active() && !now.Before(st.expires.Add(-st.margin()))
}

// arm sets the timer to fire after d.
func (st *sessionTimer) arm(d time.Duration) {
	if st.timer == nil {
		st.timer = time.NewTimer(d)
		return
	}
	st.timer.Reset(d)
}

// stop stops the timer.
func (st *sessionTimer) stop() {
	if st.timer != nil {
		st.timer.Stop()
	}
}

// c is the timer's channel, nil (never ready) when there is no timer.
func (st *sessionTimer) c() <-chan time.Time {
	if st.timer == nil || !st.active() {
		return nil
	}
	return st.timer.C
}
