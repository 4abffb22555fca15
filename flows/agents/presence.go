package agents

import (
	"fmt"
	"time"
)

// lookup returns the configured agent id; b.mu is held.
func (b *Board) lookup(id string) (*agent, error) {
	a, ok := b.agents[id]
	if !ok || a.removed {
		return nil, fmt.Errorf("agent %q: %w", id, ErrUnknownAgent)
	}
	return a, nil
}

// do runs f on agent id under the lock, then lets the board react.
func (b *Board) do(id string, f func(a *agent, now time.Time) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.lookup(id)
	if err != nil {
		return err
	}
	if err := f(a, b.now()); err != nil {
		return fmt.Errorf("agent %s: %w", id, err)
	}
	b.react()
	return nil
}

// SignIn records the agent's registration at contact (a new one or a
// refresh). A new registration signs an Offline agent in (Available); a
// refresh only updates the contact and keeps the state, so an agent who
// paused or signed out with a feature code stays so.
func (b *Board) SignIn(id, contact string) error {
	if contact == "" {
		return fmt.Errorf("agent %s: sign in: %w", id, ErrNoContact)
	}
	return b.do(id, func(a *agent, now time.Time) error {
		fresh := !a.registered
		a.registered, a.regContact = true, contact
		if fresh {
			a.signOut = false
			if a.state == Offline {
				b.signIn(a, now)
			}
		}
		return nil
	})
}

// Unregister records that the agent's registration was removed or
// expired: the contact is forgotten and the agent signs out, unless it
// has a fixed contact to fall back on. An agent ringing or on a call goes
// offline when that ends.
func (b *Board) Unregister(id string) error {
	return b.do(id, func(a *agent, now time.Time) error {
		if !a.registered {
			return nil
		}
		a.registered, a.regContact = false, ""
		if a.contact() == "" {
			b.goOffline(a, now)
		}
		return nil
	})
}

// SignOut signs the agent out (*0, the ops API); the registration stays,
// so a refresh does not sign them in again: Ready does. An agent ringing
// or on a call goes offline when that ends.
func (b *Board) SignOut(id string) error {
	return b.do(id, func(a *agent, now time.Time) error {
		b.goOffline(a, now)
		return nil
	})
}

// Ready makes the agent available (*1, the ops API): a paused or signed
// out agent with a contact, or one in wrap-up who is done early. For an
// agent ringing or on a call it cancels a pause or sign-out asked for
// meanwhile. It resets the missed count.
func (b *Board) Ready(id string) error {
	return b.do(id, func(a *agent, now time.Time) error {
		if a.contact() == "" {
			return ErrNoContact
		}
		a.missed = 0
		switch a.state {
		case Offline:
			b.signIn(a, now)
		case Paused, WrapUp:
			b.set(a, Available, now)
		case Ringing, OnCall:
			a.signOut, a.pause = false, false
		}
		return nil
	})
}

// Pause stops offers to the agent with a reason (*2, the ops API). An
// agent ringing or on a call is paused when that ends; a signed-out agent
// with a contact signs in paused.
func (b *Board) Pause(id, reason string) error {
	return b.do(id, func(a *agent, now time.Time) error {
		switch a.state {
		case Offline:
			if a.contact() == "" {
				return ErrNoContact
			}
			a.signedIn = now
		case Ringing, OnCall:
			a.pause, a.pauseReason, a.signOut = true, reason, false
			return nil
		}
		b.set(a, Paused, now)
		a.reason = reason
		return nil
	})
}

// signIn makes a signed-out agent available; b.mu is held.
func (b *Board) signIn(a *agent, now time.Time) {
	a.signedIn, a.missed = now, 0
	b.set(a, Available, now)
}

// goOffline signs the agent out now, or when its offer or call ends.
func (b *Board) goOffline(a *agent, now time.Time) {
	if a.state == Ringing || a.state == OnCall {
		a.signOut, a.pause = true, false
		return
	}
	b.set(a, Offline, now)
}

// set moves a to state s at now; b.mu is held. Leaving WrapUp stops its
// timer; leaving Paused forgets the reason.
func (b *Board) set(a *agent, s State, now time.Time) {
	if a.state == WrapUp {
		b.stopWrap(a)
	}
	if s != Paused {
		a.reason = ""
	}
	if s != Ringing && s != OnCall {
		a.callID, a.callQueue = "", ""
	}
	a.state, a.since = s, now
}

func (b *Board) stopWrap(a *agent) {
	a.wrapGen++
	if a.wrap != nil {
		a.wrap.Stop()
		a.wrap = nil
	}
}

// settle frees an agent whose offer or call ended without a new call:
// gone if removed, Offline if signed out meanwhile, Paused if asked to or
// if pause is set, else Available; b.mu is held.
func (b *Board) settle(a *agent, now time.Time, pause string) {
	switch {
	case a.removed:
		b.set(a, Offline, now)
		delete(b.agents, a.id)
	case a.signOut:
		a.signOut = false
		b.set(a, Offline, now)
	case a.pause:
		a.pause = false
		b.set(a, Paused, now)
		a.reason = a.pauseReason
	case pause != "":
		b.set(a, Paused, now)
		a.reason = pause
	default:
		b.set(a, Available, now)
	}
}
