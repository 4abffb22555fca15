package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
)

// TestIntegrationTorture sends every message of testdata/sip/torture (RFC
// 4475's 49 and kefu's own) to the real binary over UDP and over TCP and
// checks each answer against the index; then kefu still answers OPTIONS
// and a call, and its log is clean: JSON lines only, no key twice, bounded,
// none of the messages' numbers.
func TestIntegrationTorture(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-config", tortureConfig(t), "-trusted", "127.0.0.1")
	cases := tortureIndex(t)
	right := map[string]int{}
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			p := newTorturePeer(t, a, transport)
			for _, c := range cases {
				want := c.udp
				if transport == "tcp" {
					want = c.tcp
				}
				if p.check(c, want) {
					right[transport]++
				}
			}
		})
	}
	t.Logf("answered right: %d of %d over UDP, %d over TCP", right["udp"], len(cases), right["tcp"])

	// kefu still serves.
	p := newTorturePeer(t, a, "udp")
	p.send(sipOptions("after-torture", ""))
	if code, _ := p.final("after-torture", 5*time.Second); code != 200 {
		t.Errorf("OPTIONS after the torture: %d", code)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	evs, code, out := dial(t, ctx, a, "-for", "2s")
	if _, ok := find(evs, "answered"); !ok || code != 0 {
		t.Errorf("a call after the torture was not answered (exit %d)\n%s", code, out)
	}
	a.stop()
	checkLog(t, a.log.String(), "13035551111", "16505552222", "19725552222", "13912345678")
}

// tortureConfig routes "hotline" to the default hotline and every other
// called user to a flow that refuses the call with 486: a valid INVITE
// that reaches the flows shows it by that answer.
func tortureConfig(t *testing.T) string {
	t.Helper()
	cfg := string(flows.DefaultYAML())
	route := "  - to: \"*\"                  # every other called user\n    flow: hotline\n"
	if !strings.Contains(cfg, route) {
		t.Fatal("the default configuration's catch-all route moved: update tortureConfig")
	}
	cfg = strings.Replace(cfg, route, "  - to: hotline\n    flow: hotline\n  - to: \"*\"\n    flow: torture\n", 1)
	cfg = strings.Replace(cfg, "\nflows:\n", "\nflows:\n  torture:\n    steps:\n      - name: refuse\n        reject:\n          code: 486\n          reason: torture\n", 1)
	return configFile(t, cfg)
}

// tortureCase is one line of testdata/sip/torture/index.txt.
type tortureCase struct {
	name, udp, tcp string
	hdrs           []string
	data           []byte
}

func tortureIndex(t *testing.T) []tortureCase {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "sip", "torture")
	b, err := os.ReadFile(filepath.Join(dir, "index.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []tortureCase
	for _, line := range strings.Split(string(b), "\n") {
		fs := strings.Fields(line)
		if len(fs) == 0 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		if len(fs) < 5 {
			t.Fatalf("index line %q", line)
		}
		c := tortureCase{name: fs[0], udp: fs[1], tcp: fs[2]}
		if c.tcp == "=" {
			c.tcp = c.udp
		}
		if fs[3] != "-" {
			c.hdrs = strings.Split(fs[3], "&")
		}
		if c.data, err = os.ReadFile(filepath.Join(dir, c.name+".sip")); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// torturePeer sends raw messages to kefu and reads its responses.
type torturePeer struct {
	t         *testing.T
	a         *agent
	transport string
	udp       net.PacketConn
	tcp       net.Conn
	rd        *bufio.Reader
	markers   int
}

func newTorturePeer(t *testing.T, a *agent, transport string) *torturePeer {
	t.Helper()
	p := &torturePeer{t: t, a: a, transport: transport}
	if transport == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		p.udp = c
	}
	return p
}

// send sends one message: over TCP on a new connection (some are closed
// by kefu after their answer).
func (p *torturePeer) send(data []byte) {
	p.t.Helper()
	if p.transport == "udp" {
		to, _ := net.ResolveUDPAddr("udp", p.a.sip)
		if _, err := p.udp.WriteTo(data, to); err != nil {
			p.t.Fatal(err)
		}
		return
	}
	if p.tcp != nil {
		_ = p.tcp.Close()
	}
	c, err := net.Dial("tcp", p.a.sip)
	if err != nil {
		p.t.Fatal(err)
	}
	p.tcp, p.rd = c, bufio.NewReader(c)
	p.t.Cleanup(func() { _ = c.Close() })
	if _, err := c.Write(data); err != nil {
		p.t.Fatal(err)
	}
}

// addressed readies a message for sending: the torture messages' top
// Vias name hosts and ports that are not the test's, and over UDP kefu
// answers at the Via's port (RFC 3261 18.2.2), so the top Via gets
// ";rport" (RFC 3581: answer at the source port); and many reuse one
// branch and host (RFC 4475 meant each to be sent alone), which would
// make the later ones retransmissions of the earlier (RFC 3261 17.2.3),
// so its branch gets the message's name (but the bare magic cookie of
// badbranch, the point of that message).
func addressed(data []byte, transport, name string) []byte {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	lines := strings.SplitAfter(string(head), "\r\n")
	off := len(lines[0])
	for i := 1; i < len(lines); i++ {
		n, _, ok := strings.Cut(lines[i], ":")
		if n = strings.ToLower(strings.TrimSpace(n)); !ok || (n != "via" && n != "v") {
			off += len(lines[i])
			continue
		}
		end := off + len(lines[i])
		for j := i + 1; j < len(lines) && (lines[j][0] == ' ' || lines[j][0] == '\t'); j++ {
			end += len(lines[j])
		}
		field := string(data[off:end])
		if m := branchRE.FindStringSubmatchIndex(field); m != nil && field[m[2]:m[3]] != "z9hG4bK" {
			field = field[:m[3]] + "-" + transport + "-" + name + field[m[3]:]
		}
		if transport == "udp" {
			at := len(strings.TrimRight(field, "\r\n"))
			if k := strings.IndexAny(field, ";,"); k >= 0 {
				at = k
			}
			field = field[:at] + ";rport" + field[at:]
		}
		out := append([]byte(nil), data[:off]...)
		out = append(out, field...)
		return append(out, data[end:]...)
	}
	return data
}

var branchRE = regexp.MustCompile(`(?i)branch\s*=\s*([^;,\s]+)`)

// response is what the test reads of a response.
type response struct {
	code   int
	callID string
	hdrs   map[string][]string // lower-case names
	raw    string
}

// next reads one response; ok is false when none came before the deadline
// or the connection closed.
func (p *torturePeer) next(deadline time.Time) (response, bool) {
	var raw []byte
	if p.transport == "udp" {
		_ = p.udp.SetReadDeadline(deadline)
		buf := make([]byte, 65536)
		n, _, err := p.udp.ReadFrom(buf)
		if err != nil {
			return response{}, false
		}
		raw = buf[:n]
	} else {
		_ = p.tcp.SetReadDeadline(deadline)
		var head bytes.Buffer
		for {
			line, err := p.rd.ReadString('\n')
			head.WriteString(line)
			if err != nil {
				return response{}, false
			}
			if line == "\r\n" {
				break
			}
		}
		r := parseResponse(head.Bytes())
		n, _ := strconv.Atoi(first(r.hdrs, "content-length"))
		if _, err := io.ReadFull(p.rd, make([]byte, n)); err != nil {
			return response{}, false
		}
		raw = head.Bytes()
	}
	return parseResponse(raw), true
}

func parseResponse(raw []byte) response {
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	r := response{hdrs: map[string][]string{}, raw: string(raw)}
	if f := strings.Fields(lines[0]); len(f) >= 2 && f[0] == "SIP/2.0" {
		r.code, _ = strconv.Atoi(f[1])
	}
	for _, l := range lines[1:] {
		name, v, _ := strings.Cut(l, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if long, ok := map[string]string{"i": "call-id", "l": "content-length", "v": "via"}[name]; ok {
			name = long
		}
		r.hdrs[name] = append(r.hdrs[name], strings.TrimSpace(v))
	}
	r.callID = first(r.hdrs, "call-id")
	return r
}

func first(h map[string][]string, k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// callIDOf is a request's (first) Call-ID, "" when it has none.
func callIDOf(data []byte) string {
	head, _, _ := strings.Cut(string(data), "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n")[1:] {
		name, v, ok := strings.Cut(l, ":")
		if n := strings.ToLower(strings.TrimSpace(name)); ok && (n == "call-id" || n == "i") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// final waits for the final response to the request with callID ("":
// any), skipping provisional ones and others' (UDP retransmissions of
// earlier 486s); code 0 when none came within d.
func (p *torturePeer) final(callID string, d time.Duration) (int, response) {
	deadline := time.Now().Add(d)
	for {
		r, ok := p.next(deadline)
		if !ok {
			return 0, response{}
		}
		if (callID == "" || r.callID == callID) && r.code >= 200 {
			return r.code, r
		}
	}
}

// quiet reports what kefu answered to callID before it answered a marker
// OPTIONS sent after it (over TCP a message that never ends swallows the
// marker: then it waits a second).
func (p *torturePeer) quiet(callID string, endless bool) []int {
	var got []int
	marker := fmt.Sprintf("marker-%s-%d", p.transport, p.markers)
	p.markers++
	var wait time.Time
	if endless {
		wait = time.Now().Add(time.Second)
	} else {
		data := sipOptions(marker, "")
		if p.transport == "udp" {
			p.send(data)
		} else if _, err := p.tcp.Write(data); err != nil {
			p.t.Fatal(err)
		}
		wait = time.Now().Add(5 * time.Second)
	}
	for {
		r, ok := p.next(wait)
		if !ok {
			if !endless {
				p.t.Errorf("no answer to the marker OPTIONS")
			}
			return got
		}
		if r.callID == marker {
			return got
		}
		if r.callID == callID && callID != "" {
			got = append(got, r.code)
		}
	}
}

// check sends a case's message and judges kefu's answer.
func (p *torturePeer) check(c tortureCase, want string) bool {
	p.t.Helper()
	callID := callIDOf(c.data)
	p.send(addressed(c.data, p.transport, c.name))
	if want == "none" {
		if got := p.quiet(callID, p.transport == "tcp" && c.name == "clerr"); len(got) > 0 {
			p.t.Errorf("%s: answered %v, want no answer", c.name, got)
			return false
		}
		return true
	}
	code, r := p.final(callID, 5*time.Second)
	switch {
	case code == 0:
		p.t.Errorf("%s: no final answer, want %s", c.name, want)
		return false
	case want == "register":
		if code == 400 || code >= 500 {
			p.t.Errorf("%s: %d to a valid REGISTER", c.name, code)
			return false
		}
		return true
	case strconv.Itoa(code) != want:
		p.t.Errorf("%s: %d, want %s\n%s", c.name, code, want, r.raw)
		return false
	}
	ok := true
	for _, h := range c.hdrs {
		name, v, hasValue := strings.Cut(h, "=")
		got, present := r.hdrs[strings.ToLower(name)]
		if !present || hasValue && strings.ReplaceAll(got[0], " ", "") != v {
			p.t.Errorf("%s: header %s: %q, want %q\n%s", c.name, name, got, v, r.raw)
			ok = false
		}
	}
	return ok
}

func sipOptions(callID, from string) []byte {
	if from == "" {
		from = "tester"
	}
	return []byte("OPTIONS sip:hotline@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-" + callID + ";rport\r\n" +
		"From: <sip:" + from + "@127.0.0.1>;tag=t\r\n" +
		"To: <sip:hotline@127.0.0.1>\r\n" +
		"Call-ID: " + callID + "\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Max-Forwards: 70\r\n" +
		"Content-Length: 0\r\n\r\n")
}

// maxLogLine bounds a line of kefu's log.
const maxLogLine = 2048

// checkLog checks kefu's stderr: every line a JSON object with each key
// once, none longer than maxLogLine, none with any of numbers in it.
func checkLog(t *testing.T, log string, numbers ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	for _, line := range lines {
		if len(line) > maxLogLine {
			t.Errorf("log line of %d bytes: %.300s…", len(line), line)
		}
		for _, n := range numbers {
			if strings.Contains(line, n) {
				t.Errorf("number %s in the log: %s", n, line)
			}
		}
		dec := json.NewDecoder(strings.NewReader(line))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Errorf("not a JSON line: %s", line)
			continue
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Errorf("bad JSON line (%v): %s", err, line)
				break
			}
			k, _ := tok.(string)
			if seen[k] {
				t.Errorf("key %q twice: %s", k, line)
			}
			seen[k] = true
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Errorf("bad JSON line (%v): %s", err, line)
				break
			}
		}
	}
	t.Logf("%d log lines checked", len(lines))
}

// TestIntegrationNoNumbersInLogs sends malformed messages with a caller's
// number in them over UDP and TCP (sipgo logged such a message whole at
// ERROR, with the key "caller" twice and a non-JSON line beside), and a
// call from that number; kefu's log stays JSON lines with unique keys,
// bounded, without the number.
func TestIntegrationNoNumbersInLogs(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t)
	const number = "13912345678"
	from := "From: \"" + number + "\" <sip:" + number + "@127.0.0.1>;tag=n\r\n"
	head := func(start, cseq string) string {
		return start + "\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-" + strconv.Itoa(len(cseq)) + cseq[:1] + ";rport\r\n" + from +
			"To: <sip:hotline@127.0.0.1>\r\nCall-ID: " + number + "@127.0.0.1\r\nCSeq: " + cseq + "\r\n"
	}
	malformed := []string{
		head("INVITE sip:hotline@127.0.0.1 SIP/2.0", "one INVITE") + "Content-Length: 0\r\n\r\n",
		head("INVITE sip:"+number+"@127.0.0.1 SIP/2.0", "2 INVITE") + "To: \"" + number + " <sip:x@y>\r\nContent-Length: 0\r\n\r\n",
		"INVITE sip:" + number + "@127.0.0.1  SIP/2.0\r\n" + from + "\r\n",
		head("ACK sip:"+number+"@127.0.0.1 SIP/2.0", "x ACK") + "Content-Length: 0\r\n\r\n",
		head("SIP/2.0 99999 "+number, "3 INVITE") + "Content-Length: 0\r\n\r\n",
		head("OPTIONS sip:"+number+"@127.0.0.1 SIP/2.0", "4 OPTIONS") + "garbage line " + number + "\r\nContent-Length: 0\r\n\r\n",
		head("INVITE sip:hotline@127.0.0.1 SIP/2.0", "5 INVITE") + "Content-Type: application/sdp\r\nContent-Length: 900\r\n\r\nv=0\r\no=" + number + "\r\n",
		head("OPTIONS sip:hotline@127.0.0.1 SIP/2.0", "7 OPTIONS") + "\r\n", // no Content-Length: over TCP, 400 and closed
	}
	for _, transport := range []string{"udp", "tcp"} {
		p := newTorturePeer(t, a, transport)
		big := 3500 // 38 KB: more than kefu reads of a datagram
		if transport == "tcp" {
			big = 7000 // 77 KB: over the limit of a message
		}
		huge := head("OPTIONS sip:hotline@127.0.0.1 SIP/2.0", "6 OPTIONS") + "X-Big: " + strings.Repeat(number, big) + "\r\nContent-Length: 0\r\n\r\n"
		for _, m := range append(malformed, huge) {
			p.send([]byte(m))
			if transport == "tcp" {
				_, _ = p.next(time.Now().Add(300 * time.Millisecond)) // an answer, if any, before the next connection
			}
		}
		// kefu goes on serving: its answer to OPTIONS says it read them all.
		p.send(sipOptions("numbers-"+transport, number))
		if code, _ := p.final("numbers-"+transport, 5*time.Second); code != 200 {
			t.Errorf("%s: OPTIONS after the malformed messages: %d", transport, code)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if evs, code, out := dial(t, ctx, a, "-from", "sip:"+number+"@127.0.0.1", "-for", "1s"); code != 0 || len(evs) == 0 {
		t.Errorf("a call from the number failed (exit %d)\n%s", code, out)
	}
	a.stop()
	if !strings.Contains(a.log.String(), "SIP request refused") || !strings.Contains(a.log.String(), `"transport":"TCP"`) {
		t.Errorf("the refusals are not in the log")
	}
	checkLog(t, a.log.String(), number, "139123", "2345678")
}
