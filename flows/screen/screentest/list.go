package screentest

import (
	"errors"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// listMatching: exact beats prefix, longer prefix beats shorter, expired
// entries stop matching at their expiry, removal takes effect at once; an
// entry without an action sends its calls to the nuisance path.
func listMatching(e *Env) {
	exact := e.Add(screen.AddRequest{Pattern: caller, Action: screen.Action{Kind: screen.Reject}})
	e.Add(screen.AddRequest{Pattern: "138*", Action: screen.Action{Kind: screen.Route, Target: "nuisance-queue"}})
	e.Add(screen.AddRequest{Pattern: "400*"})
	e.Add(screen.AddRequest{Pattern: "400-12*", Action: screen.Action{Kind: screen.Reject, Code: 486}})
	e.Add(screen.AddRequest{Pattern: "+8613900000000", TTL: "1h"})

	v := e.Want(caller, at(0), screen.Reject, screen.ReasonList)
	if v.Code != 603 || v.Entry == nil || v.Entry.ID != exact.ID || v.Entry.Pattern != caller || v.Counts() {
		e.T.Fatalf("exact: %+v entry %+v", v, v.Entry)
	}
	if v := e.Want("13899999999", at(0), screen.Route, screen.ReasonList); v.Target != "nuisance-queue" {
		e.T.Fatalf("138*: %+v", v)
	}
	if v := e.Want("4001234567", at(0), screen.Reject, screen.ReasonList); v.Code != 486 || v.Entry.Pattern != "40012*" {
		e.T.Fatalf("40012*: %+v %+v", v, v.Entry)
	}
	if v := e.Want("4009999999", at(0), screen.Route, screen.ReasonList); v.Target != "nuisance" {
		e.T.Fatalf("400*: %+v", v)
	}
	e.Want("40", at(0), screen.Allow, screen.ReasonNone)
	e.Want("+8613900000000", at(time.Hour-time.Second), screen.Route, screen.ReasonList)
	e.Want("+8613900000000", at(time.Hour), screen.Allow, screen.ReasonNone)
	e.Want("13900000000", at(0), screen.Route, screen.ReasonList)     // +86 folded: one number
	e.Want("008613900000000", at(0), screen.Route, screen.ReasonList) // in any of its forms

	e.Clock.Set(at(time.Hour))
	active, err := e.M.List(e.T.Context(), false)
	if err != nil {
		e.T.Fatal(err)
	}
	all, err := e.M.List(e.T.Context(), true)
	if err != nil {
		e.T.Fatal(err)
	}
	if len(active) != 4 || len(all) != 5 {
		e.T.Fatalf("list at T0+1h: %d active, %d in all; want 4 and 5", len(active), len(all))
	}
	if err := e.M.Remove(e.T.Context(), "138*"); err != nil {
		e.T.Fatal(err)
	}
	e.Want("13899999999", at(time.Hour), screen.Allow, screen.ReasonNone)
	if err := e.M.Remove(e.T.Context(), "138*"); !errors.Is(err, screen.ErrNotFound) {
		e.T.Fatalf("second remove: %v, want ErrNotFound", err)
	}
}

// listedNotCounted: calls the list turns away, or sends to the nuisance
// path, do not feed the repeat rule.
func listedNotCounted(e *Env) {
	e.Add(screen.AddRequest{Pattern: caller})
	for _, t := range every(0, time.Second, 20) {
		e.Want(caller, t, screen.Route, screen.ReasonList)
	}
	if err := e.M.Remove(e.T.Context(), caller); err != nil {
		e.T.Fatal(err)
	}
	for _, t := range every(21*time.Second, time.Second, 10) {
		e.Want(caller, t, screen.Allow, screen.ReasonNone)
	}
	e.Want(caller, at(31*time.Second), screen.Route, screen.ReasonRepeat)
}

// opsFlags: ops see the flagged number and can let it call again.
func opsFlags(e *Env) {
	for _, t := range every(0, time.Second, 11) {
		e.Call(caller, t)
	}
	e.Clock.Set(at(time.Minute))
	fs, err := e.M.Flags(e.T.Context())
	if err != nil {
		e.T.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Number != caller || !fs[0].Until.Equal(at(10*time.Second+time.Hour)) {
		e.T.Fatalf("flags %+v", fs)
	}
	if err := e.M.ClearFlag(e.T.Context(), caller); err != nil {
		e.T.Fatal(err)
	}
	e.Want(caller, at(time.Minute), screen.Allow, screen.ReasonNone)
	if err := e.M.ClearFlag(e.T.Context(), "13000000000"); !errors.Is(err, screen.ErrNotFound) {
		e.T.Fatalf("clear unknown: %v", err)
	}
}

// prune: pruning on schedule never forgets an active flag, a call still
// in the window or a recent call cut short.
func prune(e *Env) {
	for _, t := range every(0, time.Second, 11) {
		e.Call(caller, t)
	}
	v := e.Call("13987654321", at(0))
	if err := e.S.CutShort(e.T.Context(), v, at(time.Minute)); err != nil {
		e.T.Fatal(err)
	}
	e.Clock.Set(at(30 * time.Minute))
	if err := e.S.Prune(e.T.Context()); err != nil {
		e.T.Fatal(err)
	}
	e.Want(caller, at(30*time.Minute), screen.Route, screen.ReasonRepeat)
	if ex, err := e.Store.Exemption(e.T.Context(), "13987654321", at(0)); err != nil || ex != screen.ExemptCutShort {
		e.T.Fatalf("the call cut short was pruned: %q %v", ex, err)
	}
	e.Clock.Set(at(2 * time.Hour))
	if err := e.S.Prune(e.T.Context()); err != nil {
		e.T.Fatal(err)
	}
	if fs, err := e.M.Flags(e.T.Context()); err != nil || len(fs) != 0 {
		e.T.Fatalf("flags after the block: %v %v", fs, err)
	}
	if err := e.M.ClearFlag(e.T.Context(), "13987654321"); !errors.Is(err, screen.ErrNotFound) {
		e.T.Fatalf("calls from 2 hours ago still stored: %v", err)
	}
	if ex, err := e.Store.Exemption(e.T.Context(), "13987654321", at(0)); err != nil || ex != screen.ExemptNone {
		e.T.Fatalf("a call cut short 2 hours ago still stored: %q %v", ex, err)
	}
}
