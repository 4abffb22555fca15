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
	switch e.Kind {
	case EvProvisional, EvAnswered, EvByeSent, EvFinal:
		if e.Code != 0 || e.Kind != EvFinal {
			num("code", int64(e.Code))
		}
		if e.Reason != "" {
			str("reason", e.Reason)
		}
	}
	switch e.Kind {
	case EvKey:
		str("key", e.Key)
		num("code", int64(e.Code))
	case EvAnswered:
		str("codec", e.Codec)
	case EvPlayStart:
		str("file", e.File)
	case EvAudioStart:
		level()
	case EvAudioEnd:
		level()
		secs("dur", e.Dur)
	case EvFinal:
		str("error", e.Error)
	case EvDone:
		secs("duration", e.Dur)
		num("packets", int64(e.Packets))
		num("lost", int64(e.Lost))
		num("sent", int64(e.Sent))
	}
	return append(b, '}')
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
