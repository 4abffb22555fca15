// Package softphone holds kefu's scripted test phones: the caller behind
// `kefu dial` (Dial) and the agent phone behind `kefu agent` (RunAgent).
// Dial places one call to a SIP URI; the agent registers to kefu and
// answers the calls kefu offers it. Both send silence, nothing, or an
// audio file as G.711 RTP, press keys, record what comes back, and report
// a timeline: SIP events, RTP start and stop, and each stretch of audio
// heard, with times accurate to a frame so that tests can assert what kefu
// said and when. They share the SIP stack (sipua.go), the media leg
// (media.go, sender.go, receive.go, timeline.go, stretch.go) and the
// events (event.go).
//
// Times on dial's timeline count from the moment the INVITE was sent, on
// the agent's from its start. Audio times come from the RTP timestamps of
// the received stream, anchored at the arrival of its first packet, so
// network and scheduling jitter do not move them.
package softphone

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/media"
)

// Defaults of Config.
const (
	DefaultFrom          = "sip:10000@127.0.0.1"
	DefaultListen        = "127.0.0.1:0"
	DefaultMax           = 2 * time.Minute
	DefaultAnswerTimeout = 30 * time.Second
)

// byeTimeout bounds our BYE transaction at hang-up.
const byeTimeout = 5 * time.Second

// SendMode says what the softphone sends after the call is answered.
type SendMode uint8

// The send modes. The zero value sends silence.
const (
	// SendSilence sends G.711 silence frames for the whole call.
	SendSilence SendMode = iota
	// SendNone sends no RTP at all, like a phone with a broken microphone
	// path or a NAT that eats the stream.
	SendNone
	// SendClip sends Config.Clip once, PlayAt after the answer, and
	// silence before and after it.
	SendClip
)

// String returns the mode's flag spelling.
func (m SendMode) String() string {
	switch m {
	case SendSilence:
		return "silence"
	case SendNone:
		return "none"
	case SendClip:
		return "clip"
	}
	return fmt.Sprintf("SendMode(%d)", uint8(m))
}

// Config describes one test call. Zero fields take the defaults.
type Config struct {
	// Target is the request URI, e.g. "sip:4008@127.0.0.1:5060".
	Target string
	// From is the caller's URI; kefu screens and routes on its user part.
	From string
	// Listen is the local SIP address; port 0 picks a free one. With an
	// unspecified IP the address the system routes to Target from is
	// advertised.
	Listen string
	// Transport is "udp" (default) or "tcp".
	Transport string
	// Codec is the only codec offered; CodecNone means PCMU.
	Codec media.Codec
	// Playback says what is sent after the answer; kefu dial presses its
	// keys by SIP INFO.
	Playback
	// Record, if set, receives an 8 kHz mono 16-bit WAV of the audio that
	// arrived, from the first packet on, with missing packets as silence.
	Record io.WriteSeeker
	// For hangs up this long after the answer; 0 waits for the far end.
	For time.Duration
	// Max is the hard cap on the whole call, ringing included.
	Max time.Duration
	// AnswerTimeout gives up (CANCEL) if no final answer came by then.
	AnswerTimeout time.Duration
	// Detector tunes how audio stretches are found.
	Detector DetectorConfig
	// OnEvent receives each timeline event as it happens, from several
	// goroutines one at a time. JSONLines makes one that prints them.
	OnEvent func(Event)
	// Logger receives SIP stack diagnostics; nil discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.From == "" {
		c.From = DefaultFrom
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	c.Transport = strings.ToLower(c.Transport)
	if c.Transport == "" {
		c.Transport = "udp"
	}
	if c.Codec == media.CodecNone {
		c.Codec = media.CodecPCMU
	}
	if c.Max == 0 {
		c.Max = DefaultMax
	}
	if c.AnswerTimeout == 0 {
		c.AnswerTimeout = DefaultAnswerTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.Target == "":
		return c, errors.New("softphone: no target URI")
	case c.Transport != "udp" && c.Transport != "tcp":
		return c, fmt.Errorf("softphone: transport %q: want udp or tcp", c.Transport)
	case c.Codec != media.CodecPCMU && c.Codec != media.CodecPCMA:
		return c, fmt.Errorf("softphone: codec %v: want PCMU or PCMA", c.Codec)
	case c.For < 0 || c.Max < 0 || c.AnswerTimeout < 0:
		return c, errors.New("softphone: durations must not be negative")
	}
	return c, validateMedia(c.Playback, c.Detector)
}

// Result is what happened on a call, for Go callers; the same facts are on
// the event stream.
type Result struct {
	// Code and Reason are the final response to the INVITE (0 if none).
	Code   int
	Reason string
	// Codec is the negotiated codec of an answered call.
	Codec media.Codec
	// Answered and Ended are the times (since the INVITE) of the answer
	// and of the hang-up; zero if they did not happen.
	Answered, Ended time.Duration
	// HungUp is EvByeReceived or EvByeSent for an answered call.
	HungUp Kind
	// Packets, Lost and Sent count RTP packets.
	Packets, Lost, Sent uint64
	// Stretches are the stretches of audio heard, in order.
	Stretches []Stretch
	// Events is the whole timeline in emission order.
	Events []Event
}

// Errors a failed call wraps; test with errors.Is. A call refused with a
// SIP status fails with a *CallError.
var (
	// ErrNoAnswer: no final response within Config.AnswerTimeout.
	ErrNoAnswer = errors.New("softphone: no answer")
	// ErrMaxDuration: the call reached Config.Max and was hung up.
	ErrMaxDuration = errors.New("softphone: maximum call duration reached")
	// ErrBadAnswer: the 200 OK carried SDP the softphone cannot use.
	ErrBadAnswer = errors.New("softphone: unusable SDP answer")
)

// CallError is a call refused with a SIP final response (3xx to 6xx).
type CallError struct {
	Code   int
	Reason string
}

// Error returns e.g. "softphone: call failed: 486 Busy Here".
func (e *CallError) Error() string {
	return fmt.Sprintf("softphone: call failed: %d %s", e.Code, e.Reason)
}
