package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/ops"
	"github.com/kefu-hotline/kefu/ops/console"
	"github.com/kefu-hotline/kefu/sip"
	"github.com/kefu-hotline/kefu/sip/flood"
	"github.com/kefu-hotline/kefu/sip/sdp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// runFlags are the flags of `kefu run`; each has a KEFU_* environment
// equivalent (flag wins over environment).
type runFlags struct {
	listen, rtpPorts, httpAddr, dataDir, config, advertise, logLevel string
	store                                                            string
	tlsListen, tlsCert, tlsKey, srtp                                 string
	now, trusted, allow, allowAgents                                 string
	noFlood                                                          bool
	grace                                                            time.Duration
	showNumbers                                                      bool
	retentionDays                                                    int
}

func parseRunFlags(args []string, stderr io.Writer) (*runFlags, error) {
	f := &runFlags{}
	fs := flag.NewFlagSet("kefu run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.listen, "listen", env("KEFU_LISTEN", "0.0.0.0:5060"), "SIP address, UDP and TCP (KEFU_LISTEN)")
	fs.StringVar(&f.tlsListen, "tls-listen", env("KEFU_TLS_LISTEN", ""), "SIP over TLS address (a host alone takes port 5061); empty: no TLS (KEFU_TLS_LISTEN)")
	fs.StringVar(&f.tlsCert, "tls-cert", env("KEFU_TLS_CERT", ""), "TLS certificate (chain), PEM; read again on SIGHUP (KEFU_TLS_CERT)")
	fs.StringVar(&f.tlsKey, "tls-key", env("KEFU_TLS_KEY", ""), "the TLS certificate's private key, PEM; read again on SIGHUP (KEFU_TLS_KEY)")
	fs.StringVar(&f.srtp, "srtp", env("KEFU_SRTP", "optional"), "SRTP for calls from sources no trunk's srtp: covers: optional (answer SRTP where offered) or required (a plain offer gets 488) (KEFU_SRTP)")
	fs.StringVar(&f.rtpPorts, "rtp-ports", env("KEFU_RTP_PORTS", "10000-20000"), "RTP port range LO-HI (KEFU_RTP_PORTS)")
	fs.StringVar(&f.httpAddr, "http", env("KEFU_HTTP", "127.0.0.1:8080"), "ops HTTP address: /healthz /readyz /metrics (KEFU_HTTP)")
	fs.StringVar(&f.dataDir, "data", env("KEFU_DATA", "./kefu-data"), "data directory (KEFU_DATA)")
	fs.StringVar(&f.store, "store", env("KEFU_STORE", ""), "a postgres:// URL: keep the state in PostgreSQL, shared by the nodes of one hotline; empty: SQLite in -data (KEFU_STORE)")
	fs.StringVar(&f.config, "config", env("KEFU_CONFIG", ""), "configuration file; empty uses the embedded default (KEFU_CONFIG)")
	fs.StringVar(&f.advertise, "advertise", env("KEFU_ADVERTISE", ""), "IP address put in Contact and SDP; default derived from -listen (KEFU_ADVERTISE)")
	fs.StringVar(&f.logLevel, "log-level", env("KEFU_LOG_LEVEL", "info"), "debug, info, warn or error (KEFU_LOG_LEVEL)")
	grace, err := time.ParseDuration(env("KEFU_GRACE", "30s"))
	if err != nil {
		return nil, fmt.Errorf("KEFU_GRACE: %w", err)
	}
	fs.DurationVar(&f.grace, "grace", grace, "on SIGTERM, how long active calls may finish before they get BYE (KEFU_GRACE)")
	fs.StringVar(&f.now, "now", env("KEFU_NOW", ""), "pin the flows' clock to this RFC 3339 time at start, for tests of greetings and holidays (KEFU_NOW)")
	fs.StringVar(&f.trusted, "trusted", env("KEFU_TRUSTED", ""), "PBX trunk and proxy addresses or CIDRs, comma-separated: exempt from the per-source flood limits, never banned; their P-Asserted-Identity names the caller, their X-Kefu-Source a request's real source (KEFU_TRUSTED)")
	fs.StringVar(&f.allow, "allow", env("KEFU_ALLOW", ""), "addresses or CIDRs, comma-separated, that may place calls (the trunks); INVITEs from elsewhere get 403; -trusted ones may too; empty: any source (KEFU_ALLOW)")
	fs.StringVar(&f.allowAgents, "allow-agents", env("KEFU_ALLOW_AGENTS", ""), "addresses or CIDRs, comma-separated, agents' phones may register from; empty: any (the digest authenticates them) (KEFU_ALLOW_AGENTS)")
	fs.BoolVar(&f.noFlood, "no-flood-guard", env("KEFU_NO_FLOOD_GUARD", "") == "true", "turn the SIP flood guard off, e.g. behind a proxy that limits rates itself (KEFU_NO_FLOOD_GUARD=true)")
	fs.BoolVar(&f.showNumbers, "show-numbers", env("KEFU_SHOW_NUMBERS", "") == "true", "log caller numbers unmasked (KEFU_SHOW_NUMBERS=true)")
	days, err := strconv.Atoi(env("KEFU_RETENTION_DAYS", "0"))
	if err != nil || days < 0 {
		return nil, fmt.Errorf("KEFU_RETENTION_DAYS %q: want a number of days, 0 to keep everything", os.Getenv("KEFU_RETENTION_DAYS"))
	}
	fs.IntVar(&f.retentionDays, "retention-days", days, "purge recordings and stored numbers (closed callbacks and complaints, survey answers, repeat-call counts) older than this many days, at start and daily; 0 keeps them (KEFU_RETENTION_DAYS)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if f.tlsListen == "" && (f.tlsCert != "" || f.tlsKey != "") {
		return nil, errors.New("-tls-cert and -tls-key need -tls-listen")
	}
	if f.retentionDays < 0 {
		return nil, fmt.Errorf("-retention-days %d: want a number of days, 0 to keep everything", f.retentionDays)
	}
	return f, nil
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func parsePorts(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		lo, err = strconv.Atoi(a)
		if err == nil {
			hi, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || lo < 1024 || hi > 65535 || lo >= hi {
		return 0, 0, fmt.Errorf("-rtp-ports %q: want LO-HI within 1024-65535, e.g. 10000-20000", s)
	}
	return lo, hi, nil
}

// cmdRun serves until ctx ends (SIGTERM, SIGINT), reloading the
// configuration on each SIGHUP and changing the log level on SIGUSR1/2.
func cmdRun(ctx context.Context, ctl controls, args []string, stderr io.Writer) int {
	f, err := parseRunFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "kefu run:", err)
		return 2
	}
	log, level, err := newLogger(f.logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "kefu run:", err)
		return 2
	}
	slog.SetDefault(log) // what libraries log on their own (sipgo's default logger) is JSON too
	if err := serve(ctx, ctl, f, log, level); err != nil {
		log.Error("kefu stopped", "error", err.Error())
		return 1
	}
	return 0
}

func serve(sigctx context.Context, ctl controls, f *runFlags, log *slog.Logger, level *logLevel) error {
	lo, hi, err := parsePorts(f.rtpPorts)
	if err != nil {
		return err
	}
	var adv netip.Addr
	if f.advertise != "" {
		if adv, err = netip.ParseAddr(f.advertise); err != nil {
			return fmt.Errorf("-advertise: %w", err)
		}
	}
	if err := os.MkdirAll(f.dataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	snap, err := flows.Load(f.config)
	if err != nil {
		return err
	}
	if err := checkOpsExposure(f.httpAddr, snap.Config); err != nil {
		return err
	}
	var clock flows.Clock
	if f.now != "" {
		at, err := time.Parse(time.RFC3339, f.now)
		if err != nil {
			return fmt.Errorf("-now %q: want RFC 3339 with an offset: %w", f.now, err)
		}
		clock = flows.PinnedClock{At: at, Started: time.Now()}
		log.Warn("flows run on a pinned clock", "now", at.Format(time.RFC3339))
	}
	st, err := openStore(context.Background(), f, log) // storeopen.go
	if err != nil {
		return fmt.Errorf("data store: %w", err)
	}
	defer st.Close()
	recoverRecordings(f.dataDir, st, log)
	var current atomic.Pointer[flows.Bundle]
	cbs := newCallbacks(st, current.Load, log) // callbacks.go
	if err := attach(snap, st, cbs, log); err != nil {
		return err
	}
	current.Store(snap)

	guard, err := floodGuard(f)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "kefu_store_write_errors_total",
		Help: "Writes the data store refused (callbacks, complaints, surveys, lists): each is a record at risk.",
	}, func() float64 { return float64(st.WriteErrors()) }))
	acl, err := sourceACL(f, reg, log) // acl.go
	if err != nil {
		return err
	}
	board, err := newBoard(snap, f.store, reg, log)
	if err != nil {
		return err
	}
	if board.close != nil {
		defer board.close()
	}
	agentsReg, err := newRegistrar(current.Load, st, board, guard, log)
	if err != nil {
		return fmt.Errorf("registrar: %w", err)
	}
	cert, err := loadCert(f) // tlscert.go
	if err != nil {
		return err
	}
	srtpUse, err := sdp.ParseSRTPUse(f.srtp)
	if err != nil || srtpUse == sdp.SRTPOff {
		return fmt.Errorf("-srtp %q: want optional or required (a trunk's srtp: off turns it off for that trunk)", f.srtp)
	}
	agent, err := sip.New(sip.Config{
		Listen: f.listen, Advertise: adv, RTPLow: lo, RTPHigh: hi, Logger: log,
		Current: current.Load, ShowNumbers: f.showNumbers, Metrics: sip.NewMetrics(reg), Clock: clock,
		DataDir: f.dataDir, Flood: guard, Registrar: agentsReg, ACL: acl,
		TLSListen: f.tlsListen, TLSCert: cert, SRTP: srtpUse,
	})
	if err != nil {
		return err
	}
	hl, err := net.Listen("tcp", f.httpAddr)
	if err != nil {
		return fmt.Errorf("ops http: %w", err)
	}
	reg.MustRegister(newOpsCollector(st, agent, current.Load, log))
	if err := cbs.start(agent, board, reg); err != nil {
		return err
	}
	reloads := reloadsCounter(reg)
	doReload := func() (string, error) {
		v, err := reload(f.config, &current, st, board, cbs, log)
		if err != nil {
			reloads.WithLabelValues("refused").Inc()
		} else {
			reloads.WithLabelValues("ok").Inc()
		}
		return v, err
	}
	mux := ops.Handler(agent, reg, func() string { return current.Load().Version }, doReload)
	ops.MountNuisance(mux, screen.NewManager(st, time.Now, screen.WithLogger(log)))
	ops.MountRecords(mux, st, log)
	queueFigures := func(now time.Time) []queue.Figures { return current.Load().Queues.Figures(now) }
	ops.MountQueues(mux, queueFigures)
	ops.MountAgents(mux, board)
	ops.MountRecordings(mux, st, f.dataDir, log)
	ops.MountCalls(mux, agent, log)
	ops.MountLogLevel(mux, level)
	ops.MountCallbacks(mux, desk{cbs}, log) // callbacks.go
	ops.MountOpenAPI(mux)
	reg.MustRegister(ops.NewQueueCollector(queueFigures))
	audit, err := ops.OpenAudit(filepath.Join(f.dataDir, "audit.log"))
	if err != nil {
		return err
	}
	defer audit.Close()
	sessions := console.NewSessions(time.Now) // agents logged in to the console: tokens of their own
	opsGuard := &ops.Guard{Tokens: sessions.Tokens(func() []ops.Token { return opsTokens(current.Load().Config) }), Audit: audit}
	con := console.New(console.Config{API: opsGuard.Wrap(ops.API(mux, func() *time.Location { return current.Load().Config.Location() })),
		Guard: opsGuard, Sessions: sessions, Source: console.Source{Calls: agent.Calls, Agents: board.Agents, Current: current.Load},
		Check: func() (*flows.Bundle, error) { return flows.Load(f.config) }, Log: log})
	hs := ops.NewServer(f.httpAddr, con, log)
	hs.RegisterOnShutdown(func() { _ = con.Close() })
	go func() {
		if err := hs.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("ops http stopped", "error", err)
		}
	}()

	ctx, stopServe := context.WithCancel(context.Background())
	defer stopServe()
	serveErr := make(chan error, 1)
	go func() { serveErr <- agent.Serve(ctx) }()
	go agentsReg.Run(ctx)
	go (&retention{days: f.retentionDays, dir: f.dataDir, st: st, log: log, now: time.Now}).run(ctx)
	tlsAddr := ""
	if a := agent.TLSAddr(); a != nil {
		tlsAddr = a.String()
	}
	log.Info("kefu serving", "sip", agent.UDPAddr().String(), "sip_tls", tlsAddr, "rtp", f.rtpPorts, "http", hl.Addr().String(),
		"config", snap.Version, "language", snap.Config.Language, "flows", len(snap.Config.Flows))

	for {
		select {
		case err := <-serveErr:
			return err
		case <-ctl.hup:
			_, _ = doReload()
			reloadCert(cert, log)
		case s := <-ctl.level:
			level.signal(s)
		case <-sigctx.Done():
			log.Info("shutting down: refusing new calls", "signal", signalName(sigctx), "active_calls", agent.ActiveCalls(), "grace", f.grace)
			gctx, cancel := context.WithTimeout(context.Background(), f.grace)
			var calls sync.WaitGroup
			calls.Go(func() { cbs.shutdown(gctx) }) // callbacks being made get the grace too
			agent.Shutdown(gctx)
			calls.Wait()
			cancel()
			stopServe()
			<-serveErr
			sctx, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
			_ = hs.Shutdown(sctx)
			cancel2()
			log.Info("kefu stopped")
			return nil
		}
	}
}

// floodGuard builds the SIP flood guard from the flags: nil when turned off.
func floodGuard(f *runFlags) (*flood.Guard, error) {
	if f.noFlood {
		return nil, nil
	}
	var cfg flood.Config
	for _, s := range strings.Split(f.trusted, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("-trusted %q: want an address or CIDR such as 10.0.0.5 or 10.0.0.0/24: %w", s, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		cfg.Trusted = append(cfg.Trusted, p)
	}
	g, err := flood.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("flood guard: %w", err)
	}
	return g, nil
}

// reload applies a changed configuration file to new calls; calls in
// progress keep theirs. A bad file is refused and the running one stays.
func reload(file string, current *atomic.Pointer[flows.Bundle], st dataStore, board *board, cbs *callbacks, log *slog.Logger) (string, error) {
	snap, err := flows.Load(file)
	if err == nil {
		err = attach(snap, st, cbs, log)
	}
	if err == nil {
		// Callers waiting and the figures carry over; agents keep their
		// states.
		err = reconfigureAgents(current.Load(), snap, board)
	}
	if err != nil {
		log.Error("reload refused; the running configuration stays", "error", err.Error(), "running", current.Load().Version)
		return "", err
	}
	// Calls ringing under the old configuration still count for the
	// repeat-call rule until they are answered or refused.
	snap.Screener.Continue(current.Load().Screener)
	old := current.Swap(snap)
	cbs.reloaded(snap)
	log.Info("configuration reloaded", "from", old.Version, "to", snap.Version)
	return snap.Version, nil
}

// attach gives a configuration its nuisance screening and its records on
// the store (the callbacks left handed to the callback scheduler).
func attach(snap *flows.Bundle, st dataStore, cbs *callbacks, log *slog.Logger) error {
	snap.Records = cbs.records()
	return snap.Screen(st, time.Now, log)
}
