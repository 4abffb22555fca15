package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/store/pg/pgtest"
)

// The proxy harness: several kefu nodes behind Kamailio's dispatcher
// (deploy/kamailio/kamailio.cfg, run as it ships, its settings given with
// -A) on one PostgreSQL, all on loopback with free ports. Callers dial the
// proxy (hotline.proxy.sip); each node is an *agent as startAgent makes
// it, with -store on the shared database and -trusted the proxy's
// address.

// hotlineOptions shape a hotline; the zero value is two nodes on the
// embedded configuration, reached over UDP.
type hotlineOptions struct {
	nodes  int      // kefu nodes; 0 means 2
	config string   // kefu configuration file of every node; "" the embedded default
	extra  []string // more `kefu run` flags for every node
	// tcp lists the nodes (by index) the proxy reaches over TCP; the
	// others over UDP.
	tcp []int
	// pingInterval is the dispatcher's OPTIONS probe interval in seconds;
	// 0 means 1.
	pingInterval int
}

// hotline is PostgreSQL, Kamailio and the kefu nodes: several nodes,
// one hotline.
type hotline struct {
	t     *testing.T
	dsn   string // the nodes' -store
	proxy *proxy
	nodes []*agent
}

// startHotline starts the nodes and the proxy for the test; the test's cleanup stops
// it. Without kamailio (or PostgreSQL) the test is skipped, or fails under
// CI=true.
func startHotline(t *testing.T, o hotlineOptions) *hotline {
	t.Helper()
	integration(t)
	kam := needTool(t, "kamailio")
	needTool(t, "kamcmd")
	if o.nodes == 0 {
		o.nodes = 2
	}
	if o.pingInterval == 0 {
		o.pingInterval = 1
	}
	srv := pgtest.Need(t, pgtest.Options{})
	dsn, err := srv.NewSchema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := &hotline{t: t, dsn: dsn, nodes: make([]*agent, o.nodes)}
	args := []string{"-store", dsn, "-trusted", "127.0.0.1"}
	if o.config != "" {
		args = append(args, "-config", o.config)
	}
	args = append(args, o.extra...)
	// The nodes start together: loading the prompts is most of a start.
	var wg sync.WaitGroup
	for i := range c.nodes {
		wg.Go(func() { c.nodes[i] = startNode(t, args) })
	}
	wg.Wait()
	for _, n := range c.nodes {
		if n == nil {
			t.FailNow() // startNode reported why
		}
	}
	var dests []string
	for i, n := range c.nodes {
		uri := "sip:" + n.sip
		for _, j := range o.tcp {
			if j == i {
				uri += ";transport=tcp"
			}
		}
		dests = append(dests, uri)
	}
	c.proxy = startProxy(t, kam, dests, o.pingInterval)
	return c
}

// startNode is startAgent from a goroutine other than the test's: a
// failure is reported with Errorf, and nil returned.
func startNode(t *testing.T, args []string) (a *agent) {
	done := make(chan struct{})
	go func() {
		// startAgent calls t.Fatal on failure: Goexit ends this goroutine.
		defer close(done)
		a = startAgent(t, args...)
	}()
	<-done
	return a
}

// proxy is a running Kamailio.
type proxy struct {
	t      *testing.T
	sip    string // where callers, trunks and phones send SIP (UDP and TCP)
	nodes  string // the socket facing the kefu nodes
	ctl    string // the control socket, for kamcmd
	dests  []string
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan struct{}
}

// kamailioConfig is the configuration the harness runs.
func kamailioConfig(t *testing.T) string {
	t.Helper()
	cfg, err := filepath.Abs(filepath.Join("..", "..", "deploy", "kamailio", "kamailio.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startProxy runs Kamailio in front of dests (dispatcher set 1) and waits
// until it answers OPTIONS. It is started again on new ports if it loses
// a port to another process.
func startProxy(t *testing.T, bin string, dests []string, pingInterval int) *proxy {
	t.Helper()
	for range 3 {
		p, ok := tryStartProxy(t, bin, dests, pingInterval)
		if ok {
			t.Cleanup(p.stop)
			return p
		}
		if !strings.Contains(p.log.String(), "Address already in use") {
			t.Fatalf("kamailio did not start\n%s", p.log.String())
		}
	}
	t.Fatal("kamailio could not bind its ports in three tries")
	return nil
}

func tryStartProxy(t *testing.T, bin string, dests []string, pingInterval int) (*proxy, bool) {
	t.Helper()
	dir := t.TempDir()
	list := filepath.Join(dir, "dispatcher.list")
	var b strings.Builder
	for i, d := range dests {
		fmt.Fprintf(&b, "1 %s 0 0 name=node%d\n", d, i)
	}
	writeFile(t, list, b.String())
	pub, nodes := freePort(t), freePort(t)
	p := &proxy{t: t, sip: fmt.Sprintf("127.0.0.1:%d", pub), nodes: fmt.Sprintf("127.0.0.1:%d", nodes),
		ctl: "unix:" + filepath.Join(dir, "ctl"), dests: dests, log: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "-f", kamailioConfig(t), "-DD", "-E", "-Y", dir, "-w", dir, "-m", "64", "-M", "8",
		"-A", fmt.Sprintf("PUBLIC_PORT=%d", pub), "-A", fmt.Sprintf("NODES_PORT=%d", nodes),
		"-A", fmt.Sprintf("DISPATCHER_LIST=%q", list), "-A", fmt.Sprintf("CTL_SOCKET=%q", p.ctl),
		"-A", `TRUNKS="192.0.2.0/24,127.0.0.1/32"`, "-A", fmt.Sprintf("PING_INTERVAL=%d", pingInterval))
	// TRUNKS is a list, as ops write it; the callers on loopback are a
	// trunk (their P-Asserted-Identity passes, pike spares them).
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	// Kamailio goes when the test binary goes.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	runtime.LockOSThread()
	err := p.cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if p.options() == 200 {
			return p, true
		}
		select {
		case <-p.exited:
			return p, false
		case <-time.After(100 * time.Millisecond):
		}
	}
	p.stop()
	t.Fatalf("kamailio did not answer OPTIONS within 20 s\n%s", p.log.String())
	return nil, false
}

// options sends the proxy an OPTIONS over UDP and returns the status of
// its answer, 0 if none came within 500 ms.
func (p *proxy) options() int {
	conn, err := net.Dial("udp", p.sip)
	if err != nil {
		return 0
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := "OPTIONS sip:" + p.sip + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-harness-" + fmt.Sprint(time.Now().UnixNano()) + ";rport\r\n" +
		"From: <sip:harness@" + local + ">;tag=harness\r\n" +
		"To: <sip:" + p.sip + ">\r\n" +
		"Call-ID: harness-" + fmt.Sprint(time.Now().UnixNano()) + "\r\n" +
		"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(msg)); err != nil {
		return 0
	}
	_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		return 0
	}
	var code int
	_, _ = fmt.Sscanf(string(buf[:n]), "SIP/2.0 %d", &code)
	return code
}

// stop stops Kamailio (SIGTERM, then SIGKILL after 10 s) and logs its
// output if the test failed.
func (p *proxy) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	if p.t.Failed() {
		p.t.Logf("kamailio log:\n%s", tail(p.log.String(), 20000))
	}
}

var dsDest = regexp.MustCompile(`URI: (\S+)\s+FLAGS: (\S+)`)

// states returns the dispatcher's flags of each node by its URI in
// dispatcher.list: "AP"/"AX" active, "IP" inactive and probed, ...
func (p *proxy) states() (map[string]string, error) {
	out, err := exec.Command("kamcmd", "-s", p.ctl, "dispatcher.list").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("kamcmd dispatcher.list: %w\n%s", err, out)
	}
	m := map[string]string{}
	for _, sm := range dsDest.FindAllStringSubmatch(string(out), -1) {
		m[sm[1]] = sm[2]
	}
	return m, nil
}

// waitState waits until the dispatcher's flags of node i start with
// want ("A" active, "I" inactive), and returns how long that took, or
// false after within.
func (p *proxy) waitState(i int, want string, within time.Duration) (time.Duration, bool) {
	start := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(within)
	for {
		if s, err := p.states(); err == nil && strings.HasPrefix(s[p.dests[i]], want) {
			return time.Since(start), true
		}
		select {
		case <-tick.C:
		case <-timeout:
			return time.Since(start), false
		}
	}
}

// answered is how many calls each node has answered.
func (c *hotline) answered() []float64 {
	out := make([]float64, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = metric(n.tryMetrics(), "kefu_calls_answered_total")
	}
	return out
}

// active is how many calls each node has in progress.
func (c *hotline) active() []float64 {
	out := make([]float64, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = metric(n.tryMetrics(), "kefu_calls_active")
	}
	return out
}

// tryMetrics is kefu's Prometheus exposition, "" when it does not answer
// (it stopped).
func (a *agent) tryMetrics() string {
	res, err := http.Get("http://" + a.http + "/metrics")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// kill ends node i at once (SIGKILL), as a crash or a power cut would.
func (c *hotline) kill(i int) {
	c.t.Helper()
	n := c.nodes[i]
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	<-n.exited
}

// sigterm asks node i to drain and stop.
func (c *hotline) sigterm(i int) {
	c.t.Helper()
	if err := c.nodes[i].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Fatal(err)
	}
}

// answeredBy is the node that answered one call since before (answered's
// counts then), -1 if none or several did.
func (c *hotline) answeredBy(before []float64) int {
	node := -1
	for j, n := range c.answered() {
		switch d := n - before[j]; {
		case d == 1 && node == -1:
			node = j
		case d != 0:
			return -1
		}
	}
	return node
}
