package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// TestIntegrationBaresipTLS: baresip calls kefu over TLS (sip:…;
// transport=tls, kefu's self-signed certificate as its CA file) and hears
// the greeting; kefu's BYE goes back over the same TLS connection.
func TestIntegrationBaresipTLS(t *testing.T) {
	integration(t)
	t.Parallel()
	baresip := needTool(t, "baresip")
	dir := t.TempDir()
	certFile, keyFile := testCert(t, dir, "kefu")
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	a := startAgent(t, "-tls-listen", tlsAddr, "-tls-cert", certFile, "-tls-key", keyFile)
	out := baresipCall(t, baresip, dir, "sip:hotline@"+tlsAddr+";transport=tls", "", "sip_cafile "+certFile)
	checkGreeting(t, dir, out)
	if !a.waitLog(`"call answered"`, 5*time.Second) {
		t.Errorf("kefu did not log the answered call")
	}
}

// TestIntegrationBaresipSRTP: baresip calls over TLS with mediaenc srtp
// (best-effort SDES on RTP/AVP) and srtp-mand (RTP/SAVP) to a kefu that
// requires SRTP, and hears the greeting: the audio it decoded went
// through kefu's SRTP. What went over the wire is no plain PCMU: baresip
// would not have played it.
func TestIntegrationBaresipSRTP(t *testing.T) {
	integration(t)
	t.Parallel()
	baresip := needTool(t, "baresip")
	dir := t.TempDir()
	certFile, keyFile := testCert(t, dir, "kefu")
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	a := startAgent(t, "-tls-listen", tlsAddr, "-tls-cert", certFile, "-tls-key", keyFile, "-srtp", "required")
	for _, enc := range []string{"srtp", "srtp-mand"} {
		bdir := filepath.Join(dir, enc)
		if err := os.Mkdir(bdir, 0o755); err != nil {
			t.Fatal(err)
		}
		out := baresipCall(t, baresip, bdir, "sip:hotline@"+tlsAddr+";transport=tls", ";mediaenc="+enc, "sip_cafile "+certFile)
		checkGreeting(t, bdir, out)
	}
	if n := strings.Count(a.log.String(), `"srtp":"AES_CM_128_HMAC_SHA1_`); n != 2 {
		t.Errorf("%d of 2 calls answered with SRTP", n)
	}
	if got := metric(a.metrics(), `kefu_srtp_dropped_total{reason="auth"}`); got > 0 {
		t.Errorf("%v packets failed authentication", got)
	}
}

// TestIntegrationSRTPRequired488: where SRTP is required, a plain RTP offer
// (over TLS, as a trunk would send it) gets 488 with a Warning.
func TestIntegrationSRTPRequired488(t *testing.T) {
	integration(t)
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := testCert(t, dir, "kefu")
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startAgent(t, "-tls-listen", tlsAddr, "-tls-cert", certFile, "-tls-key", keyFile, "-srtp", "required")
	sdpBody := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
	res := tlsRequest(t, tlsAddr, "INVITE", sdpBody, "SIP/2.0 4")
	if !strings.HasPrefix(res, "SIP/2.0 488 ") || !strings.Contains(res, "SRTP is required") {
		t.Errorf("a plain offer where SRTP is required: %q", res)
	}
}

// baresipCall has baresip (configured in dir, with accountParams on its
// account and extraConfig lines) call uri for 8 s and returns its output.
func baresipCall(t *testing.T, baresip, dir, uri, accountParams string, extraConfig ...string) string {
	t.Helper()
	silence := filepath.Join(dir, "silence.wav")
	writeSilenceWAV(t, silence, 20*time.Second)
	writeBaresipConfig(t, dir, freePort(t), silence, "sndfile", "srtp")
	f, err := os.OpenFile(filepath.Join(dir, "config"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(strings.Join(extraConfig, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "accounts"), "<sip:13900001111@127.0.0.1>;regint=0"+accountParams+"\n")
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, baresip, "-f", dir, "-e", "/dial "+uri, "-t", "8").CombinedOutput()
	if err != nil {
		t.Fatalf("baresip: %v\n%s", err, out)
	}
	return string(out)
}

// checkGreeting checks baresip's dump of what it heard: the greeting, at
// the prompts' level.
func checkGreeting(t *testing.T, dir, out string) {
	t.Helper()
	dumps, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
	if len(dumps) != 1 {
		t.Fatalf("baresip wrote no received-audio dump (%v)\n%s", dumps, out)
	}
	pcm := readAudio(t, dumps[0])
	if len(pcm) < 4*8000 {
		t.Fatalf("baresip received %.1f s of audio, want the greeting\n%s", float64(len(pcm))/8000, out)
	}
	if lvl := prompts.SpeechLevel(pcm[4000:28000]); lvl < -24 || lvl > -12 {
		t.Errorf("greeting heard by baresip at %.1f dBFS, want about -18 dBFS speech\n%s", lvl, out)
	}
}

// tlsRequest sends a request with an SDP body over a new TLS connection to
// addr and returns the first response that starts with want.
func tlsRequest(t *testing.T, addr, method, body, want string) string {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the test's self-signed certificate
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := c.LocalAddr().(*net.TCPAddr).Port
	msg := fmt.Sprintf("%s sip:hotline@%s;transport=tls SIP/2.0\r\n", method, addr) +
		fmt.Sprintf("Via: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-r%d\r\n", port, port) +
		"From: <sip:13900002222@127.0.0.1>;tag=r1\r\nTo: <sip:hotline@127.0.0.1>\r\n" +
		fmt.Sprintf("Call-ID: req-%d\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n", port, method) +
		fmt.Sprintf("Contact: <sip:13900002222@127.0.0.1:%d;transport=tls>\r\n", port) +
		fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for {
		if i := strings.Index(string(got), want); i >= 0 {
			if j := strings.Index(string(got[i:]), "\r\n\r\n"); j >= 0 {
				return string(got[i : i+j])
			}
		}
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("read %q, then %v; want %q", got, err, want)
		}
	}
}
