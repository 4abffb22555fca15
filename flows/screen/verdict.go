package screen

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"
)

// Kind is what happens to a screened call.
type Kind string

// The kinds of action.
const (
	Allow  Kind = "allow"  // let the call through to its flow
	Reject Kind = "reject" // refuse it before answer with a SIP code
	Route  Kind = "route"  // answer it on a nuisance path or queue, never a customer's
)

// DefaultRejectCode is the SIP status of a rejection that names none:
// 603 Decline. A rejection is an ops choice (CS-NUISANCE), never the
// default action.
const DefaultRejectCode = 603

// DefaultRouteTarget is the route of a Route action that names none: the
// nuisance path (the polite line-fault message, repeated, then hang-up).
const DefaultRouteTarget = "nuisance"

// Action is Allow, Reject with a SIP code, or Route to a target. It is
// stored with each list entry and configured per rule.
type Action struct {
	Kind   Kind   `json:"kind"`
	Code   int    `json:"code,omitempty"`   // Reject only: 403, 486, 603 ...
	Target string `json:"target,omitempty"` // Route only: "nuisance", a queue or a PBX route name
}

// targetRe is what a route target may look like: a name the wiring maps to
// the nuisance path, a kefu queue or a configured PBX queue (never a URI, so
// a list entry cannot send callers anywhere config does not name).
var targetRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

// DefaultAction is what an action that names none does: route the call
// to the nuisance path, where kefu answers and plays the line-fault message
// (CS-NUISANCE: the book answers nuisance callers, it never refuses them).
var DefaultAction = Action{Kind: Route, Target: DefaultRouteTarget}

// normalize fills the defaults in (an empty action is DefaultAction, one
// with only a code a rejection; Route without a target goes to the
// nuisance path; Reject without a code is 603) and checks the result.
// allow says whether Allow is acceptable (it is for the anonymous policy,
// not for a list entry).
func (a Action) normalize(allow bool) (Action, error) {
	if a.Kind == "" {
		a.Kind = Route
		if a.Code != 0 {
			a.Kind = Reject
		}
	}
	switch a.Kind {
	case Allow:
		if !allow {
			return a, invalid("action", "allow is not an action for a nuisance entry; remove the entry instead")
		}
		if a.Code != 0 || a.Target != "" {
			return a, invalid("action", "allow takes neither a code nor a target")
		}
	case Reject:
		if a.Code == 0 {
			a.Code = DefaultRejectCode
		}
		if a.Code < 400 || a.Code > 699 || a.Code == 401 || a.Code == 407 {
			return a, invalid("code", fmt.Sprintf("%d is not a rejection code: use a 4xx-6xx final status such as 603, 486 or 403 (not 401/407, which need a challenge)", a.Code))
		}
		if a.Target != "" {
			return a, invalid("target", "reject takes a code, not a target")
		}
	case Route:
		if a.Target == "" {
			a.Target = DefaultRouteTarget
		}
		if !targetRe.MatchString(a.Target) {
			return a, invalid("target", fmt.Sprintf("%q is not a route name: letters, digits, '.', '_', ':' or '-', at most 64", a.Target))
		}
		if a.Code != 0 {
			return a, invalid("code", "route takes a target, not a code")
		}
	default:
		return a, invalid("action", fmt.Sprintf("%q: use allow, reject or route", a.Kind))
	}
	return a, nil
}

// String prints the action as "reject 603", "route nuisance" or "allow".
func (a Action) String() string {
	switch a.Kind {
	case Reject:
		return fmt.Sprintf("reject %d", a.Code)
	case Route:
		return "route " + a.Target
	}
	return string(a.Kind)
}

// Reason says which rule decided a verdict; it goes into the call record,
// the log and the metrics labels (a small fixed set).
type Reason string

// The reasons.
const (
	ReasonNone      Reason = ""          // allowed: no rule matched
	ReasonList      Reason = "list"      // a nuisance list entry matched
	ReasonRepeat    Reason = "repeat"    // the repeat-call rule flagged the number
	ReasonAnonymous Reason = "anonymous" // the number is withheld
	ReasonError     Reason = "error"     // the store failed; the call was let through
)

// Reasons lists every reason, for metrics that pre-register their labels.
var Reasons = []Reason{ReasonNone, ReasonList, ReasonRepeat, ReasonAnonymous, ReasonError}

// Verdict is the screening decision for one call: the action, the rule that
// chose it, and what that rule matched (Entry for ReasonList, Flag for
// ReasonRepeat: the flag in force, or the one this call sets when it is
// counted). Spared says why the repeat-call rule let a number over its
// limit through (CS-ANGRY). It marshals to JSON for the call record; in
// logs it masks the number (see LogValue).
//
// A verdict is also the call's ticket for the repeat-call rule: hand it
// to Screener.Count once kefu has answered the call, or to
// Screener.Release when kefu refuses it or the caller gives up first; and
// to Screener.CutShort when kefu cut the answered call short.
type Verdict struct {
	Action
	Reason Reason    `json:"reason,omitempty"`
	Entry  *Entry    `json:"entry,omitempty"`
	Flag   *Flag     `json:"flag,omitempty"`
	Spared Exemption `json:"spared,omitempty"`

	key string    // the counter key of a call the repeat rule counts; "" for one it does not
	at  time.Time // when the call came
	t   *ticket   // the call's place among the number's ringing calls; nil when it holds none
}

// Counts reports whether the repeat-call rule counts the call once it is
// served: a call from a number that is not on the list, with the rule on.
func (v Verdict) Counts() bool { return v.key != "" }

// Allowed reports whether the call goes on to its flow.
func (v Verdict) Allowed() bool { return v.Kind == Allow || v.Kind == "" }

// String prints the verdict without the caller's number, e.g.
// "reject 603 (list entry 12)", "route nuisance (repeat)" or
// "allow (repeat, spared: complaint)".
func (v Verdict) String() string {
	s := v.Action.String()
	if s == "" {
		s = string(Allow)
	}
	switch {
	case v.Entry != nil:
		return fmt.Sprintf("%s (%s entry %d)", s, v.Reason, v.Entry.ID)
	case v.Reason != ReasonNone:
		return fmt.Sprintf("%s (%s)", s, v.Reason)
	case v.Spared != ExemptNone:
		return fmt.Sprintf("%s (repeat, spared: %s)", s, v.Spared)
	}
	return s
}

// LogValue logs the verdict with the number masked (CS-PRIVACY): action,
// code or target, reason, entry id and masked pattern, flag expiry.
func (v Verdict) LogValue() slog.Value {
	kind := v.Kind
	if kind == "" {
		kind = Allow
	}
	attrs := []slog.Attr{slog.String("action", string(kind))}
	if v.Code != 0 {
		attrs = append(attrs, slog.Int("code", v.Code))
	}
	if v.Target != "" {
		attrs = append(attrs, slog.String("target", v.Target))
	}
	if v.Reason != ReasonNone {
		attrs = append(attrs, slog.String("reason", string(v.Reason)))
	}
	if e := v.Entry; e != nil {
		attrs = append(attrs, slog.Int64("entry", e.ID), slog.String("pattern", MaskPattern(e.Pattern)))
	}
	if f := v.Flag; f != nil {
		attrs = append(attrs, slog.Time("until", f.Until), slog.Int("calls", f.Calls))
	}
	if v.Spared != ExemptNone {
		attrs = append(attrs, slog.String("spared", string(v.Spared)))
	}
	return slog.GroupValue(attrs...)
}
