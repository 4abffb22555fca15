package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// hotlineWithAgents writes kefu's default configuration (the greeting,
// the default flows) with two agents who sign in with passwords: the ACL
// and scanner tests' configuration.
func hotlineWithAgents(t *testing.T) string {
	t.Helper()
	def, err := exec.Command(kefuBinary(t), "config", "default").Output()
	if err != nil {
		t.Fatalf("kefu config default: %v", err)
	}
	return configFile(t, string(def)+`
agents:
  - id: "8001"
    name: 王芳
    password: kefu-8001-secret
    queues: [customers]
  - id: "8002"
    name: 李娜
    password: kefu-8002-secret
    queues: [customers]
`)
}

// TestIntegrationSourceACL: with -allow listing one trunk (127.0.0.2) and
// -trusted another (127.0.0.3), a call from elsewhere (127.0.0.1) gets
// 403 while both trunks' calls are answered and greeted; OPTIONS from
// elsewhere is still answered; an agent's phone registers from the
// agents' network (-allow-agents 127.0.0.4) and is refused 403 from
// elsewhere, whichever id it tries.
func TestIntegrationSourceACL(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-allow", "127.0.0.2", "-trusted", "127.0.0.3", "-allow-agents", "127.0.0.4/32",
		"-config", hotlineWithAgents(t))
	if !a.waitLog(`"msg":"source ACL"`, time.Second) {
		t.Error("kefu did not log its source ACL at start")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	evs, code, out := dial(t, ctx, a, "-listen", "127.0.0.1:0", "-for", "1s", "-max", "10s")
	if f, ok := find(evs, "final"); !ok || f.Code != 403 || code == 0 {
		t.Errorf("a call from outside the ACL: exit %d, want a final 403\n%s", code, out)
	}
	for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
		evs, _, heard := dialRecorded(t, ctx, a, "-listen", src+":0", "-for", "4s", "-max", "20s")
		if _, ok := find(evs, "answered"); !ok || len(stretches(evs)) == 0 || len(heard) == 0 {
			t.Errorf("a call from the trunk %s was not answered and greeted: %v", src, evs)
		}
	}
	if res := sendOptions(t, "127.0.0.1", a.sip); !strings.HasPrefix(res, "SIP/2.0 200 ") {
		t.Errorf("OPTIONS from outside the ACL: %q, want 200", firstLine(res))
	}

	bad := startPhone(t, a, "-id", "8001", "-password", "kefu-8001-secret", "-listen", "127.0.0.1:0", "-for", "5s")
	if ev := bad.wait(t, "register_failed", 10*time.Second); fmt.Sprint(ev["code"]) != "403" {
		t.Errorf("an agent registering from outside -allow-agents: %v, want 403", ev)
	}
	ph := startPhone(t, a, "-id", "8002", "-password", "kefu-8002-secret", "-listen", "127.0.0.4:0", "-for", "20s")
	ph.wait(t, "registered", 10*time.Second)

	m := a.metrics()
	for sample, want := range map[string]float64{
		`kefu_acl_denied_total{method="INVITE"}`:    1,
		`kefu_acl_denied_total{method="REGISTER"}`:  1,
		`kefu_invites_rejected_total{status="403"}`: 1,
	} {
		if got := metric(m, sample); got < want {
			t.Errorf("%s = %v, want at least %v", sample, got, want)
		}
	}
}

// sendOptions sends one OPTIONS over UDP from the address from to kefu
// and returns the response ("" if none came within 2 s).
func sendOptions(t *testing.T, from, to string) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", from+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	local := conn.LocalAddr().String()
	msg := "OPTIONS sip:hotline@" + to + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-opt" + fmt.Sprint(time.Now().UnixNano()) + ";rport\r\n" +
		"From: <sip:monitor@" + local + ">;tag=opt\r\n" +
		"To: <sip:hotline@" + to + ">\r\n" +
		"Call-ID: options-" + fmt.Sprint(time.Now().UnixNano()) + "\r\n" +
		"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nUser-Agent: kefu-test\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.WriteTo([]byte(msg), dst); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4096)
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
