package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// sipviciousRun runs a SIPVicious tool (Debian's sipvicious 0.3.3) with
// three changes made from outside, through the environment: SV_UA replaces
// its User-Agent (friendly-scanner, which kefu's flood guard drops at
// once), the way attackers disguise it; SV_BIND binds its socket to a
// given loopback address (svcrack ignores -b), so each scan has a source
// of its own; SV_TIMEOUT caps its socket timeouts (10 s) to keep the test
// short.
const sipviciousRun = `import importlib, os, socket, sys
sys.path.insert(0, '/usr/share/sipvicious')
from sipvicious.libs import svhelper
ua, bind, timeout = os.environ.get('SV_UA'), os.environ.get('SV_BIND'), os.environ.get('SV_TIMEOUT')
if ua:
    f = svhelper.makeRequest
    names = f.__code__.co_varnames[:f.__code__.co_argcount]
    d = list(f.__defaults__)
    d[names.index('useragent') - (len(names) - len(d))] = ua
    f.__defaults__ = tuple(d)
if bind:
    _bind = socket.socket.bind
    def bind_to(self, addr):
        if addr[0] in ('', '0.0.0.0'):
            addr = (bind,) + tuple(addr[1:])
        return _bind(self, addr)
    socket.socket.bind = bind_to
if timeout:
    _settimeout = socket.socket.settimeout
    socket.socket.settimeout = lambda self, t: _settimeout(self, min(t, float(timeout)) if t else t)
tool = sys.argv.pop(1)
sys.argv[0] = tool
sys.exit(importlib.import_module('sipvicious.' + tool).main())
`

// scanner runs SIPVicious tools from one source address.
type scanner struct {
	t      *testing.T
	script string
	target *agent
	src    string // loopback address to send from
	ua     string // "" keeps friendly-scanner
}

func newScanners(t *testing.T, a *agent) func(src, ua string) *scanner {
	t.Helper()
	if _, err := os.Stat("/usr/share/sipvicious/sipvicious/svwar.py"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sipvicious is not installed (CI must install it: see .ci/run)")
		}
		t.Skip("sipvicious is not installed; apt-get install sipvicious to run this test")
	}
	needTool(t, "python3")
	script := filepath.Join(t.TempDir(), "sv.py")
	writeFile(t, script, sipviciousRun)
	return func(src, ua string) *scanner { return &scanner{t: t, script: script, target: a, src: src, ua: ua} }
}

// run runs tool with args (the target is added) and returns its output.
func (s *scanner) run(ctx context.Context, tool string, args ...string) string {
	s.t.Helper()
	host, port, _ := strings.Cut(s.target.sip, ":")
	full := append([]string{s.script, tool, "-p", port}, args...)
	cmd := exec.CommandContext(ctx, "python3", append(full, host)...)
	cmd.Env = append(os.Environ(), "SV_BIND="+s.src, "SV_TIMEOUT=2", "SV_UA="+s.ua, "HOME="+s.t.TempDir())
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		s.t.Errorf("%s from %s did not end: %v\n%s", tool, s.src, ctx.Err(), out)
	}
	_ = err // the tools exit 0 or 1 as they please; their output says what they found
	return string(out)
}

// TestIntegrationScanners: SIPVicious against kefu on loopback, with the
// trunk 127.0.0.2 in -allow and two agents with passwords, while real
// calls come in through the trunk.
//
//   - The stock tools (User-Agent friendly-scanner, from 127.0.0.5) get no
//     answer at all: svmap finds no SIP device, svwar and svcrack no
//     server (and stock svcrack could not answer kefu's SHA-256 challenge
//     anyway).
//   - Disguised as a phone (127.0.0.6), svwar cannot tell agent ids from
//     others: REGISTER gets the same challenge for every id, INVITE the
//     ACL's 403, OPTIONS the same 200, so it finds nothing.
//   - svcrack disguised (127.0.0.7) against agent 8001 is refused 503 by
//     the per-user REGISTER limit and gives up; guessing slowly under the
//     limit (127.0.0.8), it fails ten times and the registrar has the
//     flood guard ban the source before the dictionary's entry with the
//     real password: it never finds it, and the source gets no more
//     answers while others do.
//   - A call placed through the trunk during the scans is answered and
//     hears the greeting, and so is one after them.
func TestIntegrationScanners(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-allow", "127.0.0.2", "-config", hotlineWithAgents(t))
	sv := newScanners(t, a)
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	call := func(label string) {
		evs, _, heard := dialRecorded(t, ctx, a, "-listen", "127.0.0.2:0", "-for", "6s", "-max", "30s")
		if _, ok := find(evs, "answered"); !ok || len(stretches(evs)) == 0 || len(heard) < 8000 {
			t.Errorf("the call %s was not answered and greeted: %v", label, evs)
		}
	}
	wg.Go(func() { call("during the scans") })

	var stock, disguised, fast, slow string
	wg.Go(func() {
		s := sv("127.0.0.5", "")
		stock = s.run(ctx, "svmap") + s.run(ctx, "svwar", "-e7995-8005") + s.run(ctx, "svcrack", "-u8001", "-r1-40")
	})
	wg.Go(func() {
		s := sv("127.0.0.6", "Zoiper rv2.10.20.4")
		// REGISTER (9 ids and svwar's probe of a random one: within the
		// per-source burst of 10), then OPTIONS, then INVITE: last, since
		// kefu retransmits its 403s to svwar, which never acknowledges
		// them, and a later svwar on the same address and port would take
		// them for answers to its own requests.
		disguised = s.run(ctx, "svwar", "-e7997-8005") +
			s.run(ctx, "svwar", "--force", "-e7997-8005") +
			s.run(ctx, "svwar", "--force", "-m", "OPTIONS", "-e7997-8005") +
			s.run(ctx, "svwar", "--force", "-m", "INVITE", "-e7997-8005")
	})
	dict := filepath.Join(t.TempDir(), "passwords.txt")
	var words []string
	for i := range 30 {
		words = append(words, fmt.Sprintf("guess%02d", i))
	}
	words[14] = "kefu-8001-secret" // reached after 14 failures: the ban comes at 10
	writeFile(t, dict, strings.Join(words, "\n")+"\n")
	wg.Go(func() {
		// The old baresip User-Agent gets the MD5 challenge alone; svcrack
		// 0.3.3 cannot answer SHA-256.
		fast = sv("127.0.0.7", "baresip v1.0.0").run(ctx, "svcrack", "-u8001", "-d", dict)
		slow = sv("127.0.0.8", "baresip v1.0.0").run(ctx, "svcrack", "-u8001", "-d", dict, "-t", "1.5", "--maximumtime", "4")
	})
	wg.Wait()

	for _, msg := range []string{"found nothing", "socket error: timed out", "no server response"} {
		if !strings.Contains(stock, msg) {
			t.Errorf("the stock tools: no %q in their output:\n%s", msg, stock)
		}
	}
	if strings.Contains(disguised, "exists") || strings.Count(disguised, "found nothing") != 4 {
		t.Errorf("svwar told agent ids apart, or did not finish:\n%s", disguised)
	}
	if !strings.Contains(fast, "unknown response") || strings.Contains(fast, "The password for") {
		t.Errorf("svcrack at full speed: want it refused by the rate limit:\n%s", fast)
	}
	if strings.Contains(slow, "The password for") || !strings.Contains(slow, "since we last received a response") {
		t.Errorf("svcrack under the rate limit: want it banned before it finds the password:\n%s", slow)
	}
	if !a.waitLog(`"msg":"repeated failed sign-ins: source banned","source":"127.0.0.8"`, time.Second) {
		t.Error("the registrar did not have the slow svcrack's source banned")
	}
	if res := sendOptions(t, "127.0.0.8", a.sip); res != "" {
		t.Errorf("the banned source still gets answers: %q", firstLine(res))
	}
	if res := sendOptions(t, "127.0.0.9", a.sip); !strings.HasPrefix(res, "SIP/2.0 200 ") {
		t.Errorf("OPTIONS from an innocent source: %q, want 200", firstLine(res))
	}
	m := a.metrics()
	for _, sample := range []string{
		`kefu_flood_denied_total{action="drop",method="OPTIONS",reason="scanner_ua"}`,
		`kefu_flood_denied_total{action="drop",method="REGISTER",reason="scanner_ua"}`,
		`kefu_flood_denied_total{action="reject",method="REGISTER",reason="caller_rate"}`,
		`kefu_acl_denied_total{method="INVITE"}`,
	} {
		if metric(m, sample) == 0 {
			t.Errorf("%s is 0", sample)
		}
	}
	call("after the scans")
}
