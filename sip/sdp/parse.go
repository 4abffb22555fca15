package sdp

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/media"
)

// rtpmap is one a=rtpmap value.
type rtpmap struct {
	name     string // lower case
	rate     int
	channels int // 0 when absent
}

// section holds what kefu reads from the session level or one media level.
type section struct {
	conn     netip.Addr // zero when no c= line
	dir      Direction
	hasDir   bool
	ptime    time.Duration
	maxptime time.Duration
}

// mediaDesc is one m= section.
type mediaDesc struct {
	Stream
	section
	rtpmaps map[uint8]rtpmap
	cryptos []Crypto // the a=crypto lines kefu can use, in order
}

// description is a parsed session description.
type description struct {
	origin Origin
	section
	media []mediaDesc
}

// malformed builds an ErrMalformed error about one line.
func malformed(n int, format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrMalformed, n, fmt.Sprintf(format, args...))
}

// clip shortens s for an error message.
func clip(s string) string {
	const limit = 40
	if len(s) > limit {
		return s[:limit] + "..."
	}
	return s
}

// parse reads body line by line. It accepts CRLF or LF line ends, a missing
// final line end, blank lines and trailing blanks, and ignores line types
// and attributes it has no use for. It insists on v=0 first and an o= line.
func parse(body []byte) (*description, error) {
	if len(body) > MaxBodySize {
		return nil, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrMalformed, len(body), MaxBodySize)
	}
	d := &description{}
	sawVersion, sawOrigin := false, false
	n := 0
	for rest := string(body); rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		n++
		line = strings.TrimRight(line, " \t\r")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			return nil, malformed(n, "%q is not a type=value line", clip(line))
		}
		typ, val := line[0], line[2:]
		if !sawVersion {
			if typ != 'v' || strings.TrimSpace(val) != "0" {
				return nil, malformed(n, "want v=0 first, got %q", clip(line))
			}
			sawVersion = true
			continue
		}
		sec := &d.section
		var m *mediaDesc
		if len(d.media) > 0 {
			m = &d.media[len(d.media)-1]
			sec = &m.section
		}
		switch typ {
		case 'o':
			if m != nil {
				continue // misplaced; the session-level one counts
			}
			o, err := parseOrigin(val)
			if err != nil {
				return nil, malformed(n, "%v", err)
			}
			d.origin, sawOrigin = o, true
		case 'c':
			addr, err := parseConnection(val)
			if err != nil {
				return nil, malformed(n, "%v", err)
			}
			sec.conn = addr
		case 'm':
			s, err := parseMedia(val)
			if err != nil {
				return nil, malformed(n, "%v", err)
			}
			d.media = append(d.media, mediaDesc{Stream: s})
		case 'a':
			parseAttribute(val, sec, m)
		}
	}
	if !sawVersion {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	if !sawOrigin {
		return nil, fmt.Errorf("%w: no o= line", ErrMalformed)
	}
	return d, nil
}

// parseOrigin reads "username sess-id sess-version IN IP4 address".
func parseOrigin(val string) (Origin, error) {
	f := strings.Fields(val)
	if len(f) != 6 {
		return Origin{}, fmt.Errorf("o= line has %d fields, want 6", len(f))
	}
	id, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return Origin{}, fmt.Errorf("o= session id %q is not a number", clip(f[1]))
	}
	ver, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil {
		return Origin{}, fmt.Errorf("o= session version %q is not a number", clip(f[2]))
	}
	return Origin{Username: f[0], SessionID: id, SessionVersion: ver, Address: f[5]}, nil
}

// parseConnection reads "IN IP4 address[/ttl[/count]]".
func parseConnection(val string) (netip.Addr, error) {
	f := strings.Fields(val)
	if len(f) != 3 {
		return netip.Addr{}, fmt.Errorf("c= line has %d fields, want 3", len(f))
	}
	if !strings.EqualFold(f[0], "IN") {
		return netip.Addr{}, fmt.Errorf("c= network type %q is not IN", clip(f[0]))
	}
	host, _, _ := strings.Cut(f[2], "/")
	addr, err := netip.ParseAddr(host)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("c= address %q is not an IP address", clip(f[2]))
	}
	switch {
	case strings.EqualFold(f[1], "IP4") && addr.Is4(), strings.EqualFold(f[1], "IP6") && addr.Is6():
		return addr, nil
	}
	return netip.Addr{}, fmt.Errorf("c= address %q is not of type %q", clip(host), clip(f[1]))
}

// parseMedia reads "media port[/count] proto fmt...".
func parseMedia(val string) (Stream, error) {
	f := strings.Fields(val)
	if len(f) < 3 {
		return Stream{}, fmt.Errorf("m= line has %d fields, want media, port, proto and formats", len(f))
	}
	portText, count, hasCount := strings.Cut(f[1], "/")
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return Stream{}, fmt.Errorf("m= port %q is not a port number", clip(f[1]))
	}
	if hasCount {
		if c, err := strconv.Atoi(count); err != nil || c < 1 {
			return Stream{}, fmt.Errorf("m= port count %q is not a number", clip(f[1]))
		}
	}
	if len(f) == 3 && port != 0 {
		return Stream{}, fmt.Errorf("m= line lists no formats")
	}
	return Stream{Media: f[0], Port: port, Proto: f[2], Formats: f[3:]}, nil
}

// parseAttribute applies the a= attributes kefu uses to sec (the current
// level) and m (the current media section, nil at session level). Anything
// else, and any value it cannot read, is ignored as RFC 4566 asks.
func parseAttribute(val string, sec *section, m *mediaDesc) {
	name, value, _ := strings.Cut(val, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	if dir, ok := directionOf(name); ok {
		sec.dir, sec.hasDir = dir, true
		return
	}
	switch name {
	case "ptime":
		if d, ok := parseMillis(value); ok {
			sec.ptime = d
		}
	case "maxptime":
		if d, ok := parseMillis(value); ok {
			sec.maxptime = d
		}
	case "crypto":
		if m == nil {
			return
		}
		if c, ok := parseCrypto(value); ok && len(m.cryptos) < 16 {
			m.cryptos = append(m.cryptos, c)
		}
	case "rtpmap":
		if m == nil {
			return
		}
		pt, rm, ok := parseRtpmap(value)
		if !ok {
			return
		}
		if m.rtpmaps == nil {
			m.rtpmaps = make(map[uint8]rtpmap)
		}
		if _, dup := m.rtpmaps[pt]; !dup {
			m.rtpmaps[pt] = rm
		}
	}
}

// parseMillis reads a ptime value: milliseconds, possibly with a fraction.
func parseMillis(value string) (time.Duration, bool) {
	ms, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
	if err != nil || math.IsNaN(ms) || ms <= 0 || ms > 10000 {
		return 0, false
	}
	return time.Duration(math.Round(ms * float64(time.Millisecond))), true
}

// parseRtpmap reads "pt name/rate[/channels]".
func parseRtpmap(value string) (uint8, rtpmap, bool) {
	f := strings.Fields(value)
	if len(f) != 2 {
		return 0, rtpmap{}, false
	}
	pt, ok := parsePT(f[0])
	if !ok {
		return 0, rtpmap{}, false
	}
	parts := strings.Split(f[1], "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return 0, rtpmap{}, false
	}
	rm := rtpmap{name: strings.ToLower(parts[0])}
	var err error
	if rm.rate, err = strconv.Atoi(parts[1]); err != nil || rm.rate <= 0 {
		return 0, rtpmap{}, false
	}
	if len(parts) == 3 {
		if rm.channels, err = strconv.Atoi(parts[2]); err != nil || rm.channels <= 0 {
			return 0, rtpmap{}, false
		}
	}
	return pt, rm, true
}

// parsePT reads an RTP payload type, 0 to 127.
func parsePT(s string) (uint8, bool) {
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil || n > 127 {
		return 0, false
	}
	return uint8(n), true
}

// formatKind is what kefu makes of one payload type.
type formatKind uint8

const (
	kindOther formatKind = iota
	kindPCMU
	kindPCMA
	kindDTMF
	kindCN
)

// kindOf classifies pt by its rtpmap, or by the static table (RFC 3551)
// when there is none.
func (m *mediaDesc) kindOf(pt uint8) formatKind {
	rm, ok := m.rtpmaps[pt]
	if !ok {
		switch pt {
		case 0:
			return kindPCMU
		case 8:
			return kindPCMA
		case 13:
			return kindCN
		}
		return kindOther
	}
	if rm.rate != media.SampleRate || rm.channels > 1 {
		return kindOther
	}
	switch rm.name {
	case "pcmu":
		return kindPCMU
	case "pcma":
		return kindPCMA
	case "telephone-event":
		return kindDTMF
	case "cn":
		return kindCN
	}
	return kindOther
}

// rtpAudio reports whether m is an enabled RTP audio stream kefu can take.
func (m *mediaDesc) rtpAudio() bool {
	return m.Port != 0 && strings.EqualFold(m.Media, "audio") &&
		(strings.EqualFold(m.Proto, "RTP/AVP") || strings.EqualFold(m.Proto, "RTP/AVPF") || secure(m.Proto))
}

// codecs lists the formats of m kefu speaks, plus its DTMF and CN types.
func (m *mediaDesc) codecs() (codecs []CodecChoice, dtmf, cn uint8) {
	for _, f := range m.Formats {
		pt, ok := parsePT(f)
		if !ok {
			continue
		}
		switch m.kindOf(pt) {
		case kindPCMU:
			codecs = append(codecs, CodecChoice{Codec: media.CodecPCMU, PT: pt})
		case kindPCMA:
			codecs = append(codecs, CodecChoice{Codec: media.CodecPCMA, PT: pt})
		case kindDTMF:
			if dtmf == 0 {
				dtmf = pt
			}
		case kindCN:
			if cn == 0 {
				cn = pt
			}
		}
	}
	return codecs, dtmf, cn
}

// ParseOffer reads a remote SDP offer. It picks the first enabled RTP audio
// stream that lists PCMU or PCMA (else the first enabled RTP audio stream),
// plain RTP before SRTP, and fills the Offer from it; other streams are kept
// in Streams so Negotiate can reject them. When the offer also has an
// RTP/SAVP(F) stream with PCMU or PCMA and an a=crypto kefu can use (a
// best-effort SRTP offer: the same audio twice, secure and plain), it is
// kept too, and Negotiate takes it wherever kefu's policy allows SRTP. An
// offer with no usable audio parses without error and has Audio -1;
// Negotiate refuses it. Errors wrap ErrMalformed.
func ParseOffer(body []byte) (*Offer, error) {
	d, err := parse(body)
	if err != nil {
		return nil, err
	}
	o := &Offer{Origin: d.origin, Audio: -1, Streams: make([]Stream, len(d.media))}
	best, twin := -1, -1
	for i := range d.media {
		o.Streams[i] = d.media[i].Stream
		if !d.media[i].rtpAudio() {
			continue
		}
		// A stream with codecs kefu speaks beats one without; then a
		// plain one beats an SRTP one (the RTP/AVP twin of an RTP/SAVP
		// stream in an offer that gives both).
		score := 0
		c, _, _ := d.media[i].codecs()
		if len(c) > 0 {
			score += 2
		}
		if !secure(d.media[i].Proto) {
			score++
		} else if twin < 0 && len(c) > 0 && len(d.media[i].cryptos) > 0 {
			twin = i
		}
		if score > best {
			o.Audio, best = i, score
		}
	}
	if o.Audio < 0 {
		return o, nil
	}
	if err := o.fill(d, o.Audio); err != nil {
		return nil, err
	}
	if twin >= 0 && twin != o.Audio {
		s := &Offer{Origin: o.Origin, Streams: o.Streams}
		if err := s.fill(d, twin); err != nil {
			return nil, err
		}
		o.secure = s
	}
	return o, nil
}

// fill describes the audio stream at index i of d in o.
func (o *Offer) fill(d *description, i int) error {
	m := &d.media[i]
	o.Audio = i
	o.Codecs, o.DTMFPT, o.CNPT = m.codecs()
	o.Port, o.Proto, o.Crypto = m.Port, m.Proto, m.cryptos
	o.Addr = pick(m.conn, d.conn, m.conn.IsValid())
	if !o.Addr.IsValid() {
		return fmt.Errorf("%w: audio stream %d has no c= line", ErrMalformed, i)
	}
	o.Direction = pick(m.dir, pick(d.dir, SendRecv, d.hasDir), m.hasDir)
	o.Ptime = pick(m.ptime, d.ptime, m.ptime != 0)
	o.MaxPtime = pick(m.maxptime, d.maxptime, m.maxptime != 0)
	return nil
}

// pick returns a if ok, else b.
func pick[T any](a, b T, ok bool) T {
	if ok {
		return a
	}
	return b
}

// ParseAnswer reads a remote SDP answer to an offer made with BuildOffer.
// The Answer is seen from the local side: Direction is the reverse of the
// remote's, Remote is where to send. Errors wrap ErrMalformed, or
// ErrNoCommonCodec when the remote rejected the audio stream or chose no
// codec kefu speaks.
func ParseAnswer(body []byte) (Answer, error) {
	o, err := ParseOffer(body)
	if err != nil {
		return Answer{}, err
	}
	if o.Audio < 0 {
		return Answer{}, fmt.Errorf("%w: answer has no enabled RTP audio stream", ErrNoCommonCodec)
	}
	if len(o.Codecs) == 0 {
		return Answer{}, fmt.Errorf("%w: answer chose formats %q, not PCMU or PCMA",
			ErrNoCommonCodec, clip(strings.Join(o.Streams[o.Audio].Formats, " ")))
	}
	a := answerFor(o, o.Codecs[0])
	if len(o.Crypto) > 0 {
		c := o.Crypto[0]
		a.SRTP = SRTP{Suite: c.Suite, Tag: c.Tag, Remote: c.Key}
	} else if secure(o.Proto) {
		return Answer{}, fmt.Errorf("%w: %s answered without an a=crypto kefu can use", ErrNoCommonCodec, o.Proto)
	}
	return a, nil
}
