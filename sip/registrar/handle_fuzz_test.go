package registrar

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var nonceParam = regexp.MustCompile(`nonce="([^"]*)"`)

// FuzzHandleAuthorization: REGISTERs whose Authorization is fuzzed from
// a template in which NONCE stands for a nonce the registrar just issued
// (so that inputs get past the nonce checks to the response's) and USER
// for the id. Beyond not panicking: no forged Authorization registers
// anything, and the answer for an agent's id and for an id that is no
// one's is the same on the wire (code, reason, challenges, warning):
// svwar-style enumeration learns nothing.
func FuzzHandleAuthorization(f *testing.F) {
	f.Add(`Digest username="USER", realm="kefu", nonce="NONCE", uri="sip:kefu.example", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b"`)
	f.Add(`Digest username="USER", realm="kefu", nonce="NONCE", uri="sip:kefu.example", response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", algorithm=SHA-256, qop=auth, nc=00000002, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv"`)
	f.Add(`Digest username="USER", realm="kefu", nonce="NONCE", uri="sip:kefu.example", response="6629fae49393a05397450978507c4ef1"`)
	f.Add(`Digest username="USER",realm="other",nonce="NONCE",uri="sip:x",response="00",opaque="o",algorithm=MD5-sess`)
	f.Add(`Digest username="USER", nonce="AAAA"`)
	f.Add(`Basic dXNlcjpwYXNz`)
	f.Add(`Digest ,,,`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, auth string) {
		wire := make(map[string]string)
		for _, user := range []string{"8001", "7999"} {
			h := newHarness(t, Config{})
			req := reg(user, "<sip:"+user+"@192.0.2.10:5060>", phoneSrc)
			first := h.r.Handle(req)
			if first.Code != 401 || len(first.Challenges) == 0 {
				t.Fatalf("the first REGISTER got %d", first.Code)
			}
			nonce := nonceParam.FindStringSubmatch(first.Challenges[0])[1]
			req.Authorization = []string{strings.NewReplacer("NONCE", nonce, "USER", user).Replace(auth)}
			req.CSeq++
			res := h.r.Handle(req)
			if res.Code == 200 || len(res.Bindings) > 0 || len(h.takeChanges()) > 0 {
				t.Fatalf("a forged Authorization registered %s: %q", user, req.Authorization[0])
			}
			// What goes on the wire, the nonces (fresh each time) aside. A
			// 400's Warning quotes the malformed input back (the id and the
			// nonce in it are the input's): whether there is one counts.
			shape := fmt.Sprintf("%d %s warning=%v", res.Code, res.Reason, res.Warning != "")
			for _, c := range res.Challenges {
				shape += " | " + nonceParam.ReplaceAllString(c, "")
			}
			wire[user] = shape
		}
		if wire["8001"] != wire["7999"] {
			t.Fatalf("an agent's id and another answered apart:\n8001: %s\n7999: %s\n(auth %q)", wire["8001"], wire["7999"], auth)
		}
	})
}
