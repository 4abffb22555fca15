package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestIntegrationRTPPortsExhausted: with an RTP range of two ports (two
// calls), a third call while both are up gets 503 with a Retry-After at
// once: no hang, no crash. OPTIONS is still answered meanwhile, and once
// the calls have ended the ports serve new calls again.
func TestIntegrationRTPPortsExhausted(t *testing.T) {
	integration(t)
	t.Parallel()
	lo := freeBlock(t, 4)
	a := startAgent(t, "-rtp-ports", fmt.Sprintf("%d-%d", lo, lo+3))
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			evs, code, out := dial(t, ctx, a, "-from", fmt.Sprintf("sip:1390000000%d@127.0.0.1", i), "-for", "8s", "-max", "30s")
			if _, ok := find(evs, "answered"); !ok || code != 0 {
				t.Errorf("call %d was not answered\n%s", i, out)
			}
		})
	}
	if !a.waitMetric("kefu_calls_active", func(v float64) bool { return v >= 2 }, 20*time.Second) {
		t.Fatal("the two calls did not come up")
	}

	start := time.Now()
	res := rawInvite(t, a.sip, "13900000009")
	if took := time.Since(start); !strings.HasPrefix(res, "SIP/2.0 503 ") || took > 2*time.Second {
		t.Errorf("a third call with the RTP ports taken: %q after %v, want 503 at once", firstLine(res), took)
	}
	if ra, err := strconv.Atoi(strings.TrimSpace(headerOf(res, "Retry-After"))); err != nil || ra <= 0 {
		t.Errorf("the 503 has no usable Retry-After:\n%s", res)
	}
	if res := sendOptions(t, "127.0.0.1", a.sip); !strings.HasPrefix(res, "SIP/2.0 200 ") {
		t.Errorf("OPTIONS with the ports taken: %q", firstLine(res))
	}
	wg.Wait()

	evs, code, out := dial(t, ctx, a, "-from", "sip:13900000008@127.0.0.1", "-for", "1s", "-max", "20s")
	if _, ok := find(evs, "answered"); !ok || code != 0 {
		t.Errorf("a call after the ports were freed was not answered\n%s", out)
	}
	if !strings.Contains(a.log.String(), `"cause":"no media port free`) {
		t.Error("kefu did not log why it refused the call")
	}
}

// rawInvite sends one INVITE with an offer from 127.0.0.1 to kefu over
// UDP, and returns its final response (after acknowledging it), or "" if
// none came within 5 s.
func rawInvite(t *testing.T, to, caller string) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	local := conn.LocalAddr().String()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	sdp := fmt.Sprintf("v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=sendrecv\r\n", port+1)
	id := fmt.Sprint(time.Now().UnixNano())
	head := func(method string) string {
		return fmt.Sprintf("%s sip:hotline@%s SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s;rport\r\n"+
			"From: <sip:%s@127.0.0.1>;tag=raw%s\r\n", method, to, local, id, caller, id)
	}
	inv := head("INVITE") + "To: <sip:hotline@" + to + ">\r\n" +
		"Call-ID: raw-" + id + "\r\nCSeq: 1 INVITE\r\nContact: <sip:" + caller + "@" + local + ">\r\nMax-Forwards: 70\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp
	if _, err := conn.WriteTo([]byte(inv), dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8192)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return ""
		}
		res := string(buf[:n])
		var code int
		if _, err := fmt.Sscanf(res, "SIP/2.0 %d", &code); err != nil || code < 200 {
			continue
		}
		ack := head("ACK") + "To: " + headerOf(res, "To") + "\r\nCall-ID: raw-" + id + "\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
		_, _ = conn.WriteTo([]byte(ack), dst)
		return res
	}
}

// headerOf returns the value of a header of a SIP message ("" if absent).
func headerOf(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// waitMetric waits until ok holds for the value of a sample of kefu's
// metrics, polling every 50 ms; false if it did not within the time.
func (a *agent) waitMetric(sample string, ok func(float64) bool, within time.Duration) bool {
	deadline := time.After(within)
	for !ok(metric(a.metrics(), sample)) {
		select {
		case <-deadline:
			return false
		case <-a.exited:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}
