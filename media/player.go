package media

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// FrameWriter sends one encoded frame. The RTP sender implements it. Frame
// numbers count 20 ms ticks from the start of the stream, so the writer can
// derive a timestamp that stays continuous across prompts, silences and skips.
type FrameWriter interface {
	WriteFrame(frame uint32, payload []byte, marker bool) error
	String() string
}

// ErrPlayerClosed is returned by Play when the player stopped.
var ErrPlayerClosed = errors.New("media: player closed")

// errReplaced ends a Play whose source another Play replaced.
var errReplaced = errors.New("media: replaced by another source")

// MaxLag is how far the player may fall behind its schedule before it stops
// catching up and skips ahead: bursting more than this would only flood the
// far end's jitter buffer.
const MaxLag = 5 * FrameDur

// Player sends one frame every 20 ms to a FrameWriter, for the whole call:
// the current source's frames while one plays, and silence in between, so the
// stream never has gaps. It is the only place in kefu that paces audio.
// Deadlines are start + n·20 ms, never cumulative sleeps.
type Player struct {
	out     FrameWriter
	codec   Codec
	silence [FrameBytes]byte

	mu  sync.Mutex
	cur *playing

	muted   atomic.Bool
	pacer   *Pacer
	start   time.Time // of the stream
	next    time.Time // when frame n is due
	n       int64     // frame number of the tick due next, counted from start
	started bool
	closed  chan struct{}
	sent    atomic.Uint64
	skipped atomic.Uint64

	// rephase carries Rephase's requests to Run, the only goroutine that
	// moves the clock; phase is the stream's start as Run last set it
	// (UnixNano), for Phase.
	rephase  chan time.Time
	phase    atomic.Int64
	rephased atomic.Uint64
}

type playing struct {
	src   Source
	first bool
	once  sync.Once
	done  chan struct{}
	err   error
}

func (pl *playing) finish(err error) {
	pl.once.Do(func() {
		pl.err = err
		close(pl.done)
	})
}

// PlayerOption configures a Player.
type PlayerOption func(*Player)

// WithPacer has the shared pacer step the player instead of a timer of its
// own: thousands of calls then cost a few wake-ups per millisecond, not one
// timer each.
func WithPacer(pc *Pacer) PlayerOption { return func(p *Player) { p.pacer = pc } }

// NewPlayer returns a player that writes codec frames to out; silence is the
// codec's idle byte. Call Run to start the clock.
func NewPlayer(out FrameWriter, codec Codec, silence byte, opts ...PlayerOption) *Player {
	p := &Player{out: out, codec: codec, closed: make(chan struct{}), rephase: make(chan time.Time, 1)}
	for _, o := range opts {
		o(p)
	}
	for i := range p.silence {
		p.silence[i] = silence
	}
	return p
}

// Run paces the stream until ctx ends and returns the context's cause. A
// player made WithPacer is stepped by the shared pacer; otherwise Run
// keeps its own timer.
func (p *Player) Run(ctx context.Context) error {
	defer func() {
		close(p.closed)
		p.mu.Lock()
		if p.cur != nil {
			p.cur.finish(ErrPlayerClosed)
			p.cur = nil
		}
		p.mu.Unlock()
	}()
	p.start = time.Now()
	p.next = p.start
	p.phase.Store(p.start.UnixNano())
	if p.pacer != nil {
		remove := p.pacer.add(p)
		for {
			select {
			case <-ctx.Done():
				remove()
				return context.Cause(ctx)
			case at := <-p.rephase:
				// Once remove has returned no worker ticks p, so its
				// clock is Run's to move until it is added again, in
				// the slot of its new phase.
				remove()
				p.shiftTo(at)
				remove = p.pacer.add(p)
			}
		}
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case now := <-timer.C:
			timer.Reset(time.Until(p.tick(now)))
		case at := <-p.rephase:
			p.shiftTo(at)
			timer.Reset(time.Until(p.next))
		}
	}
}

// Rephase asks the player to send its frames on another 20 ms phase: at
// at + k·20 ms for whole k from now on. A bridge uses it to tick a leg just
// after the other leg's packets arrive, so a relayed frame waits a few
// milliseconds for its tick instead of up to 20. The clock moves by less
// than half a frame, so the far end sees one step of jitter, and the frame
// numbers (the RTP timestamps) stay continuous. A request made before Run
// starts, or while an earlier one waits, replaces it.
func (p *Player) Rephase(at time.Time) {
	for {
		select {
		case p.rephase <- at:
			return
		default:
		}
		select {
		case <-p.rephase: // an older request: this one replaces it
		default:
		}
	}
}

// shiftTo moves the stream's clock by the smallest shift, within half a
// frame either way, that puts its frames on the phase of at; earlier only
// when the next frame then is still ahead (a frame due in the past would
// wait for its slot's next turn and go out with the one after it).
func (p *Player) shiftTo(at time.Time) {
	d := at.Sub(p.next) % FrameDur
	if d < 0 {
		d += FrameDur
	}
	if d > FrameDur/2 && p.next.Add(d-FrameDur).After(time.Now().Add(PacerSlot)) {
		d -= FrameDur
	}
	if d == 0 {
		return
	}
	p.start = p.start.Add(d)
	p.next = p.next.Add(d)
	p.phase.Store(p.start.UnixNano())
	p.rephased.Add(1)
}

// Phase returns a time on the player's 20 ms grid: its frames are due at
// Phase() + k·20 ms. Before Run starts it is the zero time.
func (p *Player) Phase() time.Time {
	ns := p.phase.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Rephased counts the times Rephase moved the player's clock.
func (p *Player) Rephased() uint64 { return p.rephased.Load() }

// tick sends every frame due by now (normally one) and returns when the
// next is due: start + n·20 ms. When the process stalled for more than
// MaxLag it skips the missed ticks rather than bursting them; the frame
// counter (and so the RTP timestamp) still moves with the wall clock.
func (p *Player) tick(now time.Time) time.Time {
	for !p.next.After(now) {
		if late := now.Sub(p.next); late > MaxLag {
			behind := int64(late / FrameDur)
			p.n += behind
			p.skipped.Add(uint64(behind))
		} else {
			p.step()
			p.n++
		}
		p.next = p.start.Add(time.Duration(p.n) * FrameDur)
	}
	return p.next
}

// step sends frame n: the next of the current source, or silence. The
// caller (tick) advances n.
func (p *Player) step() {
	var payload []byte
	marker := !p.started
	p.started = true
	// The source is read under the lock that Play's stop takes, so once
	// Play has returned its source is left alone: a paused loop's position
	// is exact.
	p.mu.Lock()
	if cur := p.cur; cur != nil {
		var ok bool
		payload, ok = cur.src.Next(p.codec)
		if !ok {
			p.cur = nil
			cur.finish(nil)
			payload = nil
		} else if cur.first {
			marker = true
			cur.first = false
		}
	}
	p.mu.Unlock()
	if payload == nil {
		payload = p.silence[:]
	}
	if p.muted.Load() {
		return
	}
	if err := p.out.WriteFrame(uint32(p.n), payload, marker); err == nil {
		p.sent.Add(1)
	}
}

// Play plays src from its current position and returns nil when it is
// exhausted: at that moment the last frame has been on the wire for 20 ms,
// so the far end has heard all of it. It returns early with the cause when
// ctx ends (barge-in is a cancel) or when another Play replaces src.
func (p *Player) Play(ctx context.Context, src Source) error {
	pl := &playing{src: src, first: true, done: make(chan struct{})}
	p.mu.Lock()
	if prev := p.cur; prev != nil {
		prev.finish(errReplaced)
	}
	p.cur = pl
	p.mu.Unlock()
	select {
	case <-pl.done:
		return pl.err
	case <-ctx.Done():
		p.stop(pl, context.Cause(ctx))
		<-pl.done
		return pl.err
	case <-p.closed:
		return ErrPlayerClosed
	}
}

func (p *Player) stop(pl *playing, err error) {
	p.mu.Lock()
	if p.cur == pl {
		p.cur = nil
	}
	p.mu.Unlock()
	pl.finish(err)
}

// SetMuted stops (true) or resumes (false) writing frames, e.g. while the
// far end holds the call and we must not send. The clock keeps running.
func (p *Player) SetMuted(m bool) { p.muted.Store(m) }

// Stats returns the frames written and the ticks skipped after stalls.
func (p *Player) Stats() (sent, skipped uint64) { return p.sent.Load(), p.skipped.Load() }

// String names the player and its sink, e.g. "Player(PCMU) -> RTP(...)".
func (p *Player) String() string { return "Player(" + p.codec.String() + ") -> " + p.out.String() }
