package registrar

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Store keeps the agents' bindings and the key nonces are signed with.
// NewMemory, the default, keeps them in the process; Shared keeps them in
// a database several kefu nodes share, so that an agent registered
// through one node can be called from any, a refresh or an un-register
// may come to any, and a nonce one node issued is good on all.
type Store interface {
	// Update gives fn the agent's bindings (newest first, expired ones
	// included) and stores what it returns (none: the agent has none),
	// atomically with every other Update of id, on any node. When fn
	// fails nothing changes and its error is returned.
	Update(ctx context.Context, id string, fn func([]Binding) ([]Binding, error)) error
	// Bindings returns the agent's bindings, newest first, expired ones
	// included.
	Bindings(ctx context.Context, id string) ([]Binding, error)
	// All returns every agent's bindings.
	All(ctx context.Context) (map[string][]Binding, error)
	// Due returns the agents with a binding expired at now.
	Due(ctx context.Context, now time.Time) ([]string, error)
	// NonceKey returns the key nonces are signed with, the same for
	// every Registrar on the store.
	NonceKey(ctx context.Context) ([32]byte, error)
}

// storeTimeout bounds one use of the store.
const storeTimeout = 5 * time.Second

// memory is the Store of one process.
type memory struct {
	mu       sync.Mutex
	bindings map[string][]Binding
	next     time.Time // no binding expires before; zero: none
	key      [32]byte
}

// NewMemory returns a Store that keeps the bindings in this process, with
// a nonce key of its own.
func NewMemory() Store {
	m := &memory{bindings: map[string][]Binding{}}
	_, _ = rand.Read(m.key[:])
	return m
}

func (m *memory) Update(_ context.Context, id string, fn func([]Binding) ([]Binding, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	bs, err := fn(cloneAll(m.bindings[id]))
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		delete(m.bindings, id)
		return nil
	}
	m.bindings[strings.Clone(id)] = cloneAll(bs)
	for _, b := range bs {
		if m.next.IsZero() || b.Expires.Before(m.next) {
			m.next = b.Expires
		}
	}
	return nil
}

func (m *memory) Bindings(_ context.Context, id string) ([]Binding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return cloneAll(m.bindings[id]), nil
}

func (m *memory) All(context.Context) (map[string][]Binding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]Binding, len(m.bindings))
	for id, bs := range m.bindings {
		out[id] = cloneAll(bs)
	}
	return out, nil
}

func (m *memory) Due(_ context.Context, now time.Time) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.next.IsZero() || now.Before(m.next) {
		return nil, nil
	}
	var ids []string
	m.next = time.Time{}
	for id, bs := range m.bindings {
		due := false
		for _, b := range bs {
			if !now.Before(b.Expires) {
				due = true
			} else if m.next.IsZero() || b.Expires.Before(m.next) {
				m.next = b.Expires
			}
		}
		if due {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (m *memory) NonceKey(context.Context) ([32]byte, error) { return m.key, nil }

func cloneAll(bs []Binding) []Binding {
	if bs == nil {
		return nil
	}
	out := make([]Binding, len(bs))
	for i, b := range bs {
		out[i] = b.clone()
	}
	return out
}

// RawStore is what Shared needs of a database: an agent's bindings as
// one opaque document, changed under a lock for the agent that holds
// across nodes, with the time the first of them expires; and named
// secrets drawn once for every node. flows/store/pg implements it.
type RawStore interface {
	// UpdateBindings gives fn the agent's document (nil: none) and
	// stores what it returns with next (nil: deletes it), atomically
	// with every other update of id.
	UpdateBindings(ctx context.Context, id string, fn func(doc []byte) (next time.Time, out []byte, err error)) error
	// BindingsDoc returns the agent's document, nil when there is none.
	BindingsDoc(ctx context.Context, id string) ([]byte, error)
	// AllBindings returns every agent's document.
	AllBindings(ctx context.Context) (map[string][]byte, error)
	// DueBindings returns the agents whose next is at or before now.
	DueBindings(ctx context.Context, now time.Time) ([]string, error)
	// Secret returns the secret called name, drawing size random bytes
	// for it the first time any node asks.
	Secret(ctx context.Context, name string, size int) ([]byte, error)
}

// Shared returns a Store on a database several kefu nodes share.
func Shared(raw RawStore) Store { return shared{raw} }

type shared struct{ raw RawStore }

// nonceSecret is the name of the nonce key among the database's secrets.
const nonceSecret = "registrar nonce key"

func (s shared) Update(ctx context.Context, id string, fn func([]Binding) ([]Binding, error)) error {
	return s.raw.UpdateBindings(ctx, id, func(doc []byte) (time.Time, []byte, error) {
		bs, err := decodeBindings(doc)
		if err != nil {
			return time.Time{}, nil, err
		}
		bs, err = fn(bs)
		if err != nil || len(bs) == 0 {
			return time.Time{}, nil, err
		}
		next := bs[0].Expires
		for _, b := range bs {
			if b.Expires.Before(next) {
				next = b.Expires
			}
		}
		out, err := encodeBindings(bs)
		return next, out, err
	})
}

func (s shared) Bindings(ctx context.Context, id string) ([]Binding, error) {
	doc, err := s.raw.BindingsDoc(ctx, id)
	if err != nil {
		return nil, err
	}
	return decodeBindings(doc)
}

func (s shared) All(ctx context.Context) (map[string][]Binding, error) {
	docs, err := s.raw.AllBindings(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]Binding, len(docs))
	for id, doc := range docs {
		if out[id], err = decodeBindings(doc); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s shared) Due(ctx context.Context, now time.Time) ([]string, error) {
	return s.raw.DueBindings(ctx, now)
}

func (s shared) NonceKey(ctx context.Context) ([32]byte, error) {
	var k [32]byte
	b, err := s.raw.Secret(ctx, nonceSecret, len(k))
	if err != nil {
		return k, err
	}
	if len(b) != len(k) {
		return k, fmt.Errorf("registrar: the stored nonce key has %d bytes, want %d", len(b), len(k))
	}
	copy(k[:], b)
	return k, nil
}

// storedBinding is a Binding as a shared store keeps it.
type storedBinding struct {
	ID        string    `json:"id"`
	URI       string    `json:"uri"`
	Params    string    `json:"params,omitempty"`
	Path      []string  `json:"path,omitempty"`
	Source    string    `json:"source,omitempty"`
	Transport string    `json:"transport"`
	Origin    string    `json:"origin,omitempty"`
	OriginTr  string    `json:"origin_transport,omitempty"`
	CallID    string    `json:"call_id"`
	CSeq      uint32    `json:"cseq"`
	UserAgent string    `json:"user_agent,omitempty"`
	Since     time.Time `json:"since"`
	Expires   time.Time `json:"expires"`
}

func encodeBindings(bs []Binding) ([]byte, error) {
	out := make([]storedBinding, len(bs))
	for i, b := range bs {
		s := storedBinding{ID: b.ID, URI: b.URI.String(), Path: b.Path, Transport: b.Transport, CallID: b.CallID,
			CSeq: b.CSeq, UserAgent: b.UserAgent, Since: b.Since, Expires: b.Expires}
		if len(b.Params) > 0 {
			s.Params = b.Params.ToString(';')
		}
		if b.Source.IsValid() {
			s.Source = b.Source.String()
		}
		if b.Origin.IsValid() {
			s.Origin, s.OriginTr = b.Origin.String(), b.OriginTransport
		}
		out[i] = s
	}
	return json.Marshal(out)
}

func decodeBindings(doc []byte) ([]Binding, error) {
	if doc == nil {
		return nil, nil
	}
	var in []storedBinding
	if err := json.Unmarshal(doc, &in); err != nil {
		return nil, fmt.Errorf("registrar: stored bindings: %w", err)
	}
	out := make([]Binding, len(in))
	for i, s := range in {
		b := Binding{ID: s.ID, Path: s.Path, Transport: s.Transport, CallID: s.CallID, CSeq: s.CSeq,
			UserAgent: s.UserAgent, Since: s.Since, Expires: s.Expires}
		if err := sip.ParseUri(s.URI, &b.URI); err != nil {
			return nil, fmt.Errorf("registrar: stored contact %q: %w", s.URI, err)
		}
		if s.Params != "" {
			var u sip.Uri
			if _, err := sip.ParseAddressValue("<sip:x>;"+s.Params, &u, &b.Params); err != nil {
				return nil, fmt.Errorf("registrar: stored contact parameters %q: %w", s.Params, err)
			}
		}
		if s.Source != "" {
			src, err := netip.ParseAddrPort(s.Source)
			if err != nil {
				return nil, fmt.Errorf("registrar: stored source %q: %w", s.Source, err)
			}
			b.Source = src
		}
		if s.Origin != "" {
			src, err := netip.ParseAddrPort(s.Origin)
			if err != nil {
				return nil, fmt.Errorf("registrar: stored origin %q: %w", s.Origin, err)
			}
			b.Origin, b.OriginTransport = src, s.OriginTr
		}
		out[i] = b
	}
	return out, nil
}
