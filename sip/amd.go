package sip

import (
	"context"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows/callback"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/amd"
)

// amdTap is the handler of the audio of a customer kefu called: it passes
// everything on to the leg's relay and, while kefu listens at the answer,
// feeds the answering-machine detector too, on the RTP goroutine. The
// decision goes to the channel listen returned.
type amdTap struct {
	next *relay

	mu   sync.Mutex
	det  *amd.Detector // nil when not listening
	acc  media.Frame   // a partial frame (ptime 10 or 30)
	accN int
	lost int // frames of the current gap fed as lost
	out  chan amd.Decision
}

func newAMDTap(next *relay) *amdTap { return &amdTap{next: next} }

// listen arms the detector; its decision comes on the channel.
func (s *amdTap) listen(o amd.Options) (<-chan amd.Decision, error) {
	det, err := amd.New(o)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.det, s.accN, s.lost, s.out = det, 0, 0, make(chan amd.Decision, 1)
	return s.out, nil
}

// stop disarms the detector and returns its decision: the one reached,
// else a person (amd.Detector.Timeout).
func (s *amdTap) stop() amd.Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.det == nil {
		return amd.Decision{}
	}
	d := s.det.Timeout()
	s.det = nil
	return d
}

// decided hands d on once and disarms; s.mu is held.
func (s *amdTap) decided(d amd.Decision, ok bool) {
	if !ok || s.det == nil {
		return
	}
	s.det = nil
	s.out <- d
}

// Audio implements rtp.Handler.
func (s *amdTap) Audio(pcm []int16) {
	s.next.Audio(pcm)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost = 0
	for len(pcm) > 0 && s.det != nil {
		k := copy(s.acc[s.accN:], pcm)
		s.accN += k
		pcm = pcm[k:]
		if s.accN < media.FrameSamples {
			return
		}
		s.accN = 0
		s.decided(s.det.Frame(s.acc[:]))
	}
}

// ComfortNoise implements rtp.Handler.
func (s *amdTap) ComfortNoise(level uint8) {
	s.next.ComfortNoise(level)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost = 0
	if s.det != nil {
		s.decided(s.det.ComfortNoise(level))
	}
}

// Digit implements rtp.Handler: a key is a person.
func (s *amdTap) Digit(d rune) {
	s.next.Digit(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.det != nil {
		s.decided(s.det.Key(), true)
	}
}

// Silence implements rtp.Handler: the frames that did not come since the
// last packet are fed as lost (a phone that sends nothing while nobody
// speaks is silent: a person waiting, after amd.Options.Silence).
func (s *amdTap) Silence(d time.Duration) {
	s.next.Silence(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := media.Frames(d) - s.lost; n > 0 && s.det != nil; n-- {
		s.lost++
		s.decided(s.det.Lost())
	}
}

// listenAt runs the detector on ol (whose handler is sc) from now until
// it decides, ol's far end hangs up (gone), ctx ends, or the wall clock
// passes MaxListen and a little (RTP that stopped altogether: a person).
func listenAt(ctx context.Context, ol *outLeg, sc *amdTap, o amd.Options, gone error) (amd.Decision, error) {
	out, err := sc.listen(o)
	if err != nil {
		return amd.Decision{}, err
	}
	t := time.NewTimer(o.MaxListen + time.Second)
	defer t.Stop()
	select {
	case d := <-out:
		return d, nil
	case <-ol.gone:
		sc.stop()
		return amd.Decision{}, gone
	case <-ctx.Done():
		sc.stop()
		return amd.Decision{}, ctx.Err()
	case <-t.C:
		select {
		case d := <-out:
			return d, nil
		default:
		}
		return sc.stop(), nil
	}
}

// Listen implements callback.Customer: the detector hears the customer
// while the agent goes on hearing the ringing tone; the agent hanging up
// ends it with callback.ErrAgentGone.
func (c *outCustomer) Listen(ctx context.Context, o amd.Options) (amd.Decision, error) {
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ringDone := make(chan struct{})
	go func() {
		defer close(ringDone)
		err := c.g.leg.play(lctx, media.NewClipSource("ringback", ringbackClip(), true), callback.ErrAgentGone)
		if err == callback.ErrAgentGone {
			cancel(err)
		}
	}()
	d, err := listenAt(lctx, c.leg, c.tap, o, callback.ErrCustomerGone)
	cancel(nil)
	<-ringDone
	if err != nil && ctx.Err() == nil && c.g.leg.isGone() {
		err = callback.ErrAgentGone
	}
	if err == nil {
		c.log.Info("answering-machine detection", "verdict", d.Verdict.String(), "reason", d.Reason,
			"after_s", round1(d.After.Seconds()), "greeting_s", round1(d.Greeting.Seconds()))
	}
	return d, err
}

// Listen implements callback.Line.
func (ln *outLine) Listen(ctx context.Context, o amd.Options) (amd.Decision, error) {
	d, err := listenAt(ctx, ln.leg, ln.tap, o, callback.ErrCustomerGone)
	if err == nil {
		ln.leg.l.log.Info("answering-machine detection", "verdict", d.Verdict.String(), "reason", d.Reason,
			"after_s", round1(d.After.Seconds()), "greeting_s", round1(d.Greeting.Seconds()))
	}
	return d, err
}
