package registrar

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// bind applies an authenticated REGISTER to the agent's bindings (RFC 3261
// section 10.3 steps 6 to 8): all of it or, when a contact is refused,
// none of it.
func (r *Registrar) bind(req Request, now time.Time) Response {
	id := req.User
	type change struct {
		c   Contact
		exp time.Duration
		key string
	}
	var changes []change
	wildcard := len(req.Contacts) == 1 && req.Contacts[0].URI.Wildcard
	if !wildcard {
		for _, c := range req.Contacts {
			if s := strings.ToLower(c.URI.Scheme); s != "sip" && s != "sips" {
				return Response{Code: 400, Reason: "Bad Request", Warning: "kefu reaches agents at sip: and sips: contacts only",
					Outcome: Unsupported, ID: id}
			}
			exp := r.expiry(req, c)
			if exp > 0 && exp < r.cfg.MinExpires {
				return Response{Code: 423, Reason: "Interval Too Brief", MinExpires: int(r.cfg.MinExpires / time.Second),
					Outcome: TooBrief, ID: id}
			}
			changes = append(changes, change{c: c, exp: exp, key: uriKey(c.URI)})
		}
	}

	var before, after *Binding
	var bs []Binding
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	// r.mu is held across the update so that the sign-in and sign-out
	// events of this node go out in the order of its updates.
	r.mu.Lock()
	err := r.st.Update(ctx, id, func(stored []Binding) ([]Binding, error) {
		before = newest(stored)
		bs = stored
		// A refresh must be newer than what it changes: same Call-ID,
		// higher CSeq (RFC 3261 section 10.3 step 7).
		outOfOrder := func(b Binding) bool { return b.CallID == req.CallID && req.CSeq <= b.CSeq }
		if wildcard {
			if slices.ContainsFunc(bs, outOfOrder) {
				return nil, errOutOfOrder
			}
			bs = nil
		}
		touched := map[string]bool{}
		for _, ch := range changes {
			i := slices.IndexFunc(bs, func(b Binding) bool { return uriKey(b.URI) == ch.key })
			if i >= 0 && !touched[ch.key] && outOfOrder(bs[i]) {
				return nil, errOutOfOrder
			}
			touched[ch.key] = true
			switch {
			case ch.exp == 0 && i >= 0:
				bs = slices.Delete(bs, i, i+1)
			case ch.exp == 0:
			case i >= 0:
				bs[i] = r.binding(req, ch.c, bs[i].Since, now.Add(ch.exp))
			default:
				bs = slices.Insert(bs, 0, r.binding(req, ch.c, now, now.Add(ch.exp)))
			}
		}
		bs = slices.DeleteFunc(bs, func(b Binding) bool { return !now.Before(b.Expires) })
		for len(bs) > r.cfg.MaxBindings {
			// The contact closest to expiry goes: usually a phone that
			// restarted with a new address and left its old binding
			// behind.
			i := 0
			for j, b := range bs {
				if b.Expires.Before(bs[i].Expires) {
					i = j
				}
			}
			bs = slices.Delete(bs, i, i+1)
		}
		after = newest(bs)
		return bs, nil
	})
	switch {
	case errors.Is(err, errOutOfOrder):
		r.mu.Unlock()
		return outOfOrderResponse(id)
	case err != nil:
		r.mu.Unlock()
		return Response{Code: 500, Reason: "Server Internal Error", Outcome: Failed, ID: id, Err: err}
	}
	evs := appendEvent(nil, id, before, after)
	res := Response{Code: 200, Reason: "OK", Date: now, ID: id, Bindings: live(bs, now), Outcome: Refreshed, Path: req.Path}
	switch {
	case len(req.Contacts) == 0:
		res.Outcome = Queried
	case len(bs) == 0:
		res.Outcome = Unregistered
	case len(evs) > 0:
		res.Outcome = Registered
	}
	r.deliver(evs)
	return res
}

// errOutOfOrder refuses an update: a REGISTER older than a binding.
var errOutOfOrder = errors.New("registrar: CSeq not above the binding's")

func outOfOrderResponse(id string) Response {
	return Response{Code: 400, Reason: "Bad Request", Warning: "CSeq not above the last REGISTER's for this Call-ID",
		Outcome: OutOfOrder, ID: id}
}

// binding builds the binding a contact of req asks for.
func (r *Registrar) binding(req Request, c Contact, since, expires time.Time) Binding {
	return Binding{
		ID: req.User, URI: *c.URI.Clone(), Params: withoutParam(c.Params, "expires"), Path: slices.Clone(req.Path),
		Source: req.Source, Transport: strings.ToUpper(req.Transport),
		Origin: req.origin(), OriginTransport: strings.ToUpper(orDefault(req.OriginTransport, req.Transport)),
		CallID: strings.Clone(req.CallID), CSeq: req.CSeq, UserAgent: strings.Clone(req.UserAgent),
		Since: since, Expires: expires,
	}
}

// newest is a copy of the binding calls go to: the first (most recently
// made); nil when there is none.
func newest(bs []Binding) *Binding {
	if len(bs) == 0 {
		return nil
	}
	b := bs[0]
	return &b
}

// event is an OnChange call, or an OnFailure call when src is valid.
type event struct {
	id, contact string
	signedIn    bool
	src         netip.Addr
}

// appendEvent adds the OnChange call, if any, for an agent whose newest
// binding went from before to after.
func appendEvent(evs []event, id string, before, after *Binding) []event {
	switch {
	case after == nil && before == nil:
		return evs
	case after == nil:
		t := before.Target()
		return append(evs, event{id: id, contact: t.String()})
	}
	ta := after.Target()
	to := ta.String()
	if before != nil {
		tb := before.Target()
		if tb.String() == to {
			return evs
		}
	}
	return append(evs, event{id: id, contact: to, signedIn: true})
}

// deliver queues evs and delivers them, in order, unless another
// goroutine is delivering (it will deliver these too). It is called with
// r.mu held and releases it.
func (r *Registrar) deliver(evs []event) {
	r.pending = append(r.pending, evs...)
	if r.delivering || len(r.pending) == 0 {
		r.mu.Unlock()
		return
	}
	r.delivering = true
	for len(r.pending) > 0 {
		evs := r.pending
		r.pending = nil
		r.mu.Unlock()
		for _, e := range evs {
			switch {
			case e.src.IsValid() && r.cfg.OnFailure != nil:
				r.cfg.OnFailure(e.src)
			case !e.src.IsValid() && r.cfg.OnChange != nil:
				r.cfg.OnChange(e.id, e.contact, e.signedIn)
			}
		}
		r.mu.Lock()
	}
	r.delivering = false
	r.mu.Unlock()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
