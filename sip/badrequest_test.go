package sip

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestBadRequest(t *testing.T) {
	garbage := "INVITE sip:hotline@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport\r\n" +
		"From: <sip:138@127.0.0.1>;tag=a\r\n" +
		"To: <sip:hotline@127.0.0.1>\r\n" +
		"Call-ID: x1\r\n" +
		"CSeq: one INVITE\r\n" + // not a number
		"Secret: not copied\r\n" +
		"Content-Length: 0\r\n\r\n"
	if _, err := sip.NewParser().ParseSIP([]byte(garbage)); err == nil {
		t.Skip("sipgo parses this; the guard never sees it")
	}
	if !isRequest([]byte(garbage)) {
		t.Fatal("not recognised as a request")
	}
	res := string(badRequest([]byte(garbage), "bad \"cseq\"\n"))
	for _, want := range []string{"SIP/2.0 400 Bad Request\r\n", "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport\r\n", "Call-ID: x1\r\n", "CSeq: one INVITE\r\n", `Warning: 399 kefu "bad  cseq  "`, "Content-Length: 0\r\n\r\n"} {
		if !strings.Contains(res, want) {
			t.Errorf("400 lacks %q:\n%s", want, res)
		}
	}
	if strings.Contains(res, "Secret") {
		t.Errorf("400 copied an unrelated header:\n%s", res)
	}
	if isRequest([]byte("SIP/2.0 200 OK\r\n\r\n")) {
		t.Error("a response taken for a request")
	}
}
