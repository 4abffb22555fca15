package softphone

import (
	"io"
	"math"
	"strconv"
	"sync"
	"time"
)

// Kind names a timeline event; it is the "ev" field of the JSON line.
type Kind string

// The events of a call's timeline, in the order they usually happen.
const (
	EvInvite      Kind = "invite"       // the INVITE was sent (t = 0)
	EvProvisional Kind = "provisional"  // a 1xx arrived: Code
	EvAnswered    Kind = "answered"     // a 2xx arrived (T) and was acknowledged: Code, Codec
	EvRTPStart    Kind = "rtp_start"    // the first RTP packet arrived (again, after a stall)
	EvPlayStart   Kind = "play_start"   // we started sending the -play file: File
	EvPlayEnd     Kind = "play_end"     // the file has been sent
	EvAudioStart  Kind = "audio_start"  // a stretch of audio began: LevelDB of its first frames
	EvAudioEnd    Kind = "audio_end"    // the stretch ended: LevelDB of the whole stretch, Dur
	EvRTPStop     Kind = "rtp_stop"     // the last packet before a stall or the end of the call
	EvByeReceived Kind = "bye_received" // the far end hung up
	EvByeSent     Kind = "bye_sent"     // we hung up: Code of the response, 0 if none came
	EvFinal       Kind = "final"        // the call failed: Code (0 for local failures), Error
	EvDone        Kind = "done"         // the summary, always last: Dur, Packets, Lost, Sent
)

// The events of kefu agent's timeline. Those of a call carry its number
// (Call, from 1); the audio, RTP, play, key and BYE events above come with
// it too. EvAnswered is then our 200 OK, acknowledged by the caller.
const (
	EvRegistered     Kind = "registered"      // the first REGISTER was accepted: Expires granted
	EvRefreshed      Kind = "refreshed"       // a refresh was accepted: Expires granted
	EvRegisterFailed Kind = "register_failed" // registration refused or unanswered: Code, Reason, Error
	EvOffered        Kind = "offered"         // an INVITE arrived: CallID, From, Display, Queue, Called, Wait
	EvRinging        Kind = "ringing"         // we sent 180 Ringing
	EvRejected       Kind = "rejected"        // we refused the call: Code, Reason
	EvCancelled      Kind = "cancelled"       // the caller cancelled while we rang (487 sent)
	EvHold           Kind = "hold"            // a re-INVITE put the call on hold: Direction of our answer
	EvResume         Kind = "resume"          // a re-INVITE took it off hold: Direction
	EvCallEnd        Kind = "call_end"        // the call's summary: Dur (answer to hang-up), Packets, Lost, Sent, File (the recording)
	EvUnregistered   Kind = "unregistered"    // the un-REGISTER (Expires: 0) was answered: Code
)

// Event is one line of the timeline. T counts from the moment the INVITE
// was sent. Only the fields that belong to the Kind are written to JSON.
// Audio and RTP events carry times derived from RTP timestamps and
// arrival times, so they may be emitted a few hundred milliseconds after
// the moment they describe (and after later SIP events): order by T, not
// by line.
type Event struct {
	T       time.Duration // since the INVITE was sent
	Kind    Kind          // the "ev" field
	Code    int           // SIP status: provisional, answered, bye_sent, final
	Reason  string        // SIP reason phrase
	Codec   string        // answered: PCMU or PCMA
	LevelDB float64       // audio_start, audio_end: RMS level in dBFS
	Dur     time.Duration // audio_end: stretch length; done: answer to hang-up
	File    string        // play_start: the file sent
	Key     string        // key: the key pressed
	Error   string        // final: what went wrong
	Packets uint64        // done: RTP packets received
	Lost    uint64        // done: RTP packets lost (sequence gaps)
	Sent    uint64        // done: RTP packets sent

	Call      int           // kefu agent: the call's number, from 1; 0 for none
	CallID    string        // offered: the Call-ID
	From      string        // offered: the caller's number (P-Asserted-Identity, else From)
	Display   string        // offered: From's display name
	Queue     string        // offered: the queue header's value
	Called    string        // offered: the number first called (Diversion or History-Info)
	Wait      time.Duration // offered: the caller's wait in the queue (X-Kefu-Wait), -1 if not given
	Expires   time.Duration // registered, refreshed: the expiry granted
	Direction string        // hold, resume: the direction we answered with
	Via       string        // key: ViaRFC4733 or ViaInfo
	Calls     int           // kefu agent's done: calls offered
	Answered  int           // kefu agent's done: calls answered

	agent bool // kefu agent's done: write Calls and Answered, not the RTP counts
}

// MarshalJSON writes the event as one flat object with "t" (seconds, 3
// decimals) and "ev" first, then the fields of its kind.
func (e Event) MarshalJSON() ([]byte, error) {
	return e.appendJSON(make([]byte, 0, 96)), nil
}

func (e Event) appendJSON(b []byte) []byte {
	b = append(b, `{"t":`...)
	b = strconv.AppendFloat(b, e.T.Seconds(), 'f', 3, 64)
	b = append(b, `,"ev":`...)
	b = strconv.AppendQuote(b, string(e.Kind))
	num := func(key string, v int64) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, v, 10)
	}
	str := func(key, v string) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b = strconv.AppendQuote(b, v)
	}
	secs := func(key string, d time.Duration) {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b = strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64)
	}
	level := func() {
		b = append(b, `,"level_db":`...)
		v := e.LevelDB
		if math.IsInf(v, 0) || math.IsNaN(v) {
			v = silenceDB
		}
		b = strconv.AppendFloat(b, v, 'f', 1, 64)
	}
	if e.Call > 0 {
		num("call", int64(e.Call))
	}
	switch e.Kind {
	case EvProvisional, EvAnswered, EvByeSent, EvFinal, EvRegisterFailed, EvRejected, EvUnregistered:
		if e.Code != 0 || (e.Kind != EvFinal && e.Kind != EvRegisterFailed) {
			num("code", int64(e.Code))
		}
		if e.Reason != "" {
			str("reason", e.Reason)
		}
	}
	switch e.Kind {
	case EvKey:
		str("key", e.Key)
		if e.Via != "" {
			str("via", e.Via)
		}
		if e.Via != ViaRFC4733 {
			num("code", int64(e.Code))
		}
		if e.Error != "" {
			str("error", e.Error)
		}
	case EvAnswered:
		str("codec", e.Codec)
	case EvPlayStart:
		str("file", e.File)
	case EvAudioStart:
		level()
	case EvAudioEnd:
		level()
		secs("dur", e.Dur)
	case EvFinal, EvRegisterFailed:
		str("error", e.Error)
	case EvRegistered, EvRefreshed:
		num("expires", int64(e.Expires/time.Second))
	case EvOffered:
		str("call_id", e.CallID)
		str("from", e.From)
		str("display", e.Display)
		str("queue", e.Queue)
		str("called", e.Called)
		if e.Wait >= 0 {
			num("wait", int64(e.Wait/time.Second))
		}
	case EvHold, EvResume:
		str("direction", e.Direction)
	case EvDone, EvCallEnd:
		secs("duration", e.Dur)
		if e.agent {
			num("calls", int64(e.Calls))
			num("answered", int64(e.Answered))
			break
		}
		num("packets", int64(e.Packets))
		num("lost", int64(e.Lost))
		num("sent", int64(e.Sent))
		if e.Kind == EvCallEnd && e.File != "" {
			str("recording", e.File)
		}
	}
	return append(b, '}')
}

// eventLog keeps a run's timeline: it stamps times from start, records
// each event and passes it on, one at a time (events come from the SIP,
// media and key goroutines).
type eventLog struct {
	start  time.Time
	mu     sync.Mutex
	events *[]Event
	sink   func(Event)
}

func (l *eventLog) since() time.Duration { return time.Since(l.start) }

// emit records an event and passes it on.
func (l *eventLog) emit(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.events = append(*l.events, e)
	if l.sink != nil {
		l.sink(e)
	}
}

// JSONLines returns an event sink that writes each event to w as one JSON
// line. It is safe for concurrent use; write errors are ignored (the call
// goes on even if nobody reads the timeline).
func JSONLines(w io.Writer) func(Event) {
	var mu sync.Mutex
	var buf []byte
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		buf = append(e.appendJSON(buf[:0]), '\n')
		_, _ = w.Write(buf)
	}
}
