package sip

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// tortureCase is one line of testdata/sip/torture/index.txt.
type tortureCase struct {
	name, udp, tcp string
	hdrs           []string // "Name" or "Name=value"
	what           string
}

func tortureCases(t *testing.T) []tortureCase {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "sip", "torture", "index.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tortureCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 5 {
			t.Fatalf("index line %q: want name, udp, tcp, headers, description", line)
		}
		c := tortureCase{name: fs[0], udp: fs[1], tcp: fs[2], what: strings.Join(fs[4:], " ")}
		if c.tcp == "=" {
			c.tcp = c.udp
		}
		if fs[3] != "-" {
			c.hdrs = strings.Split(fs[3], "&")
		}
		out = append(out, c)
	}
	return out
}

func tortureMessage(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "sip", "torture", name+".sip"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// filterCodes are the statuses the filter sends itself; every other answer
// comes from kefu's handlers, so the filter must pass those messages on.
var filterCodes = map[string]bool{"400": true, "505": true, "416": true, "420": true, "415": true, "406": true, "483": true, "513": true}

// registrarAnswers are the cases whose refusal comes from the registrar
// (register.go), not from the filter.
var registrarAnswers = map[string]bool{"unksm2": true}

var testSrc = &net.UDPAddr{IP: net.IPv4(192, 0, 2, 9), Port: 5062}

// TestTortureFilter runs every message of the torture set through the
// filter as a datagram: the ones kefu refuses get their status and header
// fields from it, the others reach sipgo, which parses them.
func TestTortureFilter(t *testing.T) {
	cases := tortureCases(t)
	if len(cases) < 49 {
		t.Fatalf("%d cases in the index, want the 49 of RFC 4475 and kefu's", len(cases))
	}
	f := newConformer(discardLogger(), NewMetrics(nil))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := f.inspect(tortureMessage(t, c.name), testSrc, "UDP", false)
			switch {
			case filterCodes[c.udp] && !registrarAnswers[c.name]:
				if j.reply == nil || j.pass != nil {
					t.Fatalf("want a %s from the filter, got pass=%v reply=%q", c.udp, j.pass != nil, j.reply)
				}
				checkAnswer(t, j.reply, c)
			case c.udp == "none":
				if j.reply != nil {
					t.Fatalf("answered what must not be: %q", j.reply)
				}
			default:
				if j.pass == nil || j.reply != nil {
					t.Fatalf("want it passed on to kefu's handlers (%s), got reply %q", c.udp, j.reply)
				}
				if _, err := sip.NewParser().ParseSIP(j.pass); err != nil {
					t.Fatalf("passed on what sipgo cannot parse: %v", err)
				}
			}
		})
	}
}

// checkAnswer checks a response's status and the header fields the case
// names, and what every response needs. It reads the response with
// kefu's own splitter: a refusal copies the request's fields back as they
// came, malformed ones included, so sipgo may not read it.
func checkAnswer(t *testing.T, reply []byte, c tortureCase) {
	t.Helper()
	m, err := splitMessage(reply, true)
	if err != nil {
		t.Fatalf("reply %q: %v", reply, err)
	}
	if code := strings.Fields(m.start); len(code) < 2 || code[0] != "SIP/2.0" || code[1] != c.udp {
		t.Errorf("status line %q, want %s", m.start, c.udp)
	}
	for _, h := range c.hdrs {
		name, want, hasValue := strings.Cut(h, "=")
		got := m.all(headerKey(name))
		if len(got) == 0 {
			t.Errorf("no %s header in\n%s", name, reply)
			continue
		}
		if hasValue && strings.ReplaceAll(got[0], " ", "") != want {
			t.Errorf("%s: %q, want %q", name, got[0], want)
		}
	}
	if m.first("via") == "" || m.first("cseq") == "" {
		t.Errorf("the response lacks Via or CSeq:\n%s", reply)
	}
	if to := m.first("to"); to != "" && !hasTag(to) {
		t.Errorf("the response's To has no tag:\n%s", reply)
	}
}

// TestWsinvRewritten: the whitespace RFC 3261 allows around ';', '=' and
// '/' reaches sipgo removed, so it reads the tags, the Vias and the
// Contact's parameters right.
func TestWsinvRewritten(t *testing.T) {
	f := newConformer(discardLogger(), NewMetrics(nil))
	j := f.inspect(tortureMessage(t, "wsinv"), testSrc, "UDP", false)
	m, err := sip.NewParser().ParseSIP(j.pass)
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	if tag, _ := req.To().Params.Get("tag"); tag != "1918181833n" {
		t.Errorf("To tag %q", tag)
	}
	if tag, _ := req.From().Params.Get("tag"); tag != "98asjd8" {
		t.Errorf("From tag %q", tag)
	}
	var vias []string
	for _, h := range req.GetHeaders("Via") {
		v := h.(*sip.ViaHeader)
		b, _ := v.Params.Get("branch")
		vias = append(vias, v.Transport+" "+v.Host+" "+b)
	}
	if got := strings.Join(vias, ", "); got != "UDP 192.0.2.2 390skdjuw, TCP spindle.example.com z9hG4bK9ikj8, UDP 192.168.255.111 z9hG4bK30239" {
		t.Errorf("Vias: %s", got)
	}
	if q, _ := req.Contact().Params.Get("q"); q != "0.33" {
		t.Errorf("Contact q %q", q)
	}
	if len(req.Body()) != 150 {
		t.Errorf("body %d bytes", len(req.Body()))
	}
}

// TestDblreqExtraDropped: a datagram's bytes after its Content-Length are
// not a second request (RFC 3261 18.3).
func TestDblreqExtraDropped(t *testing.T) {
	f := newConformer(discardLogger(), NewMetrics(nil))
	j := f.inspect(tortureMessage(t, "dblreq"), testSrc, "UDP", false)
	if strings.Contains(string(j.pass), "INVITE") {
		t.Errorf("the INVITE after the REGISTER went on:\n%s", j.pass)
	}
}

// TestReplyAddressing: a refusal copies Via (with rport filled in), From,
// To (with a tag added), Call-ID and CSeq, and nothing else.
func TestReplyAddressing(t *testing.T) {
	req := "OPTIONS sip:x@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1;rport\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-0\r\n" +
		"From: <sip:a@example.com>;tag=f\r\n" +
		"To: <sip:x@example.com>\r\n" +
		"Call-ID: c1\r\n" +
		"CSeq: 2 OPTIONS\r\n" +
		"Secret: not copied\r\n" +
		"Require: foo\r\n" +
		"Content-Length: 0\r\n\r\n"
	f := newConformer(discardLogger(), NewMetrics(nil))
	j := f.inspect([]byte(req), testSrc, "UDP", false)
	res := string(j.reply)
	for _, want := range []string{"SIP/2.0 420 Bad Extension\r\n",
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1;rport=5062;received=192.0.2.9\r\n",
		"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-0\r\n", "From: <sip:a@example.com>;tag=f\r\n", "To: <sip:x@example.com>;tag=",
		"Call-ID: c1\r\n", "CSeq: 2 OPTIONS\r\n", "Unsupported: foo\r\n", `Warning: 399 kefu "`, "Content-Length: 0\r\n\r\n"} {
		if !strings.Contains(res, want) {
			t.Errorf("reply lacks %q:\n%s", want, res)
		}
	}
	if strings.Contains(res, "Secret") {
		t.Errorf("reply copied an unrelated header:\n%s", res)
	}
}

// TestGrammar covers the address and Via grammar beyond the torture set.
func TestGrammar(t *testing.T) {
	for _, c := range []struct {
		v, want string // want "" for an error
		list    bool
	}{
		{`"A \"B\"" <sip:a@b>;tag=1`, `"A \"B\"" <sip:a@b>;tag=1`, false},
		{`A  B<sip:a@b> ; tag = 1`, `A B <sip:a@b>;tag=1`, false},
		{`sip:a@b;tag=1`, `sip:a@b;tag=1`, false},
		{`张三 <sip:a@b>;tag=1`, `张三 <sip:a@b>;tag=1`, false},
		{`<sip:a@b>, <sip:c@d>;q=0.5`, `<sip:a@b>, <sip:c@d>;q=0.5`, true},
		{`*`, `*`, true},
		{`<sip:a@b>;p="x;y"`, `<sip:a@b>;p="x;y"`, false},
		{`<sip:a@b>, <sip:c@d>`, "", false},
		{`<sip:a@b`, "", false},
		{`"unterminated <sip:a@b>`, "", false},
		{`sip:a@b?x=1`, "", false},
		{`<sip:a@b>;`, "", false},
		{`<sip:a@b>;x=`, "", false},
		{`Bell, A <sip:a@b>`, "", false},
		{`< sip:a@b>`, "", false},
		{``, "", false},
	} {
		as, err := parseAddresses(c.v, c.list)
		if c.want == "" {
			if err == nil {
				t.Errorf("%q: accepted", c.v)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.v, err)
			continue
		}
		parts := make([]string, len(as))
		for i, a := range as {
			parts[i] = a.String()
		}
		if got := strings.Join(parts, ", "); got != c.want {
			t.Errorf("%q: %q, want %q", c.v, got, c.want)
		}
	}
	for _, c := range []struct{ v, want string }{
		{"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport"},
		{"SIP / 2.0 / TCP [2001:db8::1] : 5060 ; branch = x", "SIP/2.0/TCP [2001:db8::1]:5060;branch=x"},
		{"SIP/2.0/UDP a, SIP/2.0/TCP b", "SIP/2.0/UDP a, SIP/2.0/TCP b"},
		{"SIP/2.0/UDP", ""},
		{"SIP/2.0/UDP a;;", ""},
		{"SIP/2.0/UDP a,,", ""},
		{"SIP/3.0/UDP a", ""},
		{"SIP/2.0/UDP a:", ""},
	} {
		vs, err := parseVias(c.v)
		if c.want == "" {
			if err == nil {
				t.Errorf("Via %q: accepted", c.v)
			}
			continue
		}
		if err != nil {
			t.Errorf("Via %q: %v", c.v, err)
			continue
		}
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = v.String()
		}
		if got := strings.Join(parts, ", "); got != c.want {
			t.Errorf("Via %q: %q, want %q", c.v, got, c.want)
		}
	}
}

// TestRFC2543Tag: an RFC 2543 INVITE (no From tag) reaches sipgo with a
// tag made from its Call-ID and From URI, the same for its CANCEL, and the
// tag is taken off what kefu sends back.
func TestRFC2543Tag(t *testing.T) {
	f := newConformer(discardLogger(), NewMetrics(nil))
	inv := tortureMessage(t, "inv2543")
	j := f.inspect(inv, testSrc, "UDP", false)
	m, err := sip.NewParser().ParseSIP(j.pass)
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	tag, ok := req.From().Params.Get("tag")
	if !ok || !strings.HasPrefix(tag, rfc2543TagPrefix) {
		t.Fatalf("From %q", req.From().Value())
	}
	cancel := strings.Replace(strings.Replace(string(inv), "INVITE sip:", "CANCEL sip:", 1), "CSeq: 56 INVITE", "CSeq: 56 CANCEL", 1)
	cancel = cancel[:strings.Index(cancel, "Content-Type")] + "Content-Length: 0\r\n\r\n"
	jc := f.inspect([]byte(cancel), testSrc, "UDP", false)
	mc, err := sip.NewParser().ParseSIP(jc.pass)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := mc.(*sip.Request).From().Params.Get("tag"); got != tag {
		t.Errorf("the CANCEL's tag %q, the INVITE's %q", got, tag)
	}
	res := sip.NewResponseFromRequest(req, 486, "Busy Here", nil)
	out := string(stripRFC2543Tags([]byte(res.String())))
	if strings.Contains(out, rfc2543TagPrefix) || !strings.Contains(out, "From: <sip:+13035551111@ift.client.example.net;user=phone>\r\n") {
		t.Errorf("the made-up tag went out:\n%s", out)
	}
}
