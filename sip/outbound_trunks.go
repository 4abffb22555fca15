package sip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/sip/sdp"
	"github.com/kefu-hotline/kefu/sip/trunk"
	"github.com/prometheus/client_golang/prometheus"
)

// trunkAuth is what a leg placed through a trunk carries besides a leg to
// an agent: the host its From names (the trunk's domain) and the digest
// credentials it answers the trunk's challenges with.
type trunkAuth struct {
	Host           string
	User, Password string
	// FromUser, when set, is the From's user (the trunk's account),
	// the caller ID then going in P-Asserted-Identity alone.
	FromUser string
	// SRTP is the trunk's srtp: policy for the call (srtp.go).
	SRTP sdp.SRTPUse
}

// fromHost is the host of the leg's From: the trunk's, or def.
func (t trunkAuth) fromHost(def string) string {
	if t.Host != "" {
		return t.Host
	}
	return def
}

// Outbound is kefu's side of the calls it places itself (issue 13): the
// trunks, kept registered where they ask for it, and the callbacks'
// calls to agents and customers (callback.Phone). kefu dials only the
// numbers its callback scheduler gives it, through configured trunks.
type Outbound struct {
	a        *Agent
	log      *slog.Logger
	onChange func() // a trunk went up or down

	calls  *prometheus.CounterVec
	active *prometheus.GaugeVec

	mu      sync.Mutex
	ctx     context.Context // Run's: the registrations run in it
	running bool
	trunks  map[string]*outTrunk
	wg      sync.WaitGroup
}

// outTrunk is one configured trunk.
type outTrunk struct {
	def    flows.TrunkDef
	uri    sip.Uri // sip:host:port, transport parameter set for TCP
	reg    *trunk.Registration
	stop   context.CancelFunc
	active int // calls through it now
}

// NewOutbound prepares the outbound side of a; reg receives the trunks'
// metrics (nil: none); onChange is called when a trunk goes up or down,
// for the callback scheduler to look again.
func (a *Agent) NewOutbound(reg prometheus.Registerer, onChange func()) *Outbound {
	o := &Outbound{
		a: a, log: a.log, onChange: onChange, trunks: map[string]*outTrunk{}, ctx: context.Background(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_trunk_calls_total",
			Help: "Calls kefu placed through a trunk (callbacks), by outcome: answered, no_answer, busy, declined, failed, cancelled.",
		}, []string{"trunk", "outcome"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kefu_trunk_calls_active",
			Help: "Calls kefu has through a trunk now.",
		}, []string{"trunk"}),
	}
	if onChange == nil {
		o.onChange = func() {}
	}
	if reg != nil {
		reg.MustRegister(o.calls, o.active, trunkCollector{o})
	}
	return o
}

// Run keeps the trunks' registrations until ctx ends, then removes them
// (un-REGISTER) and returns.
func (o *Outbound) Run(ctx context.Context) {
	o.mu.Lock()
	o.ctx, o.running = ctx, true
	for _, t := range o.trunks {
		o.startReg(t)
	}
	o.mu.Unlock()
	<-ctx.Done()
	o.wg.Wait()
}

// Configure applies the trunks of a (re)loaded configuration: new ones
// start registering, changed ones start again, removed ones stop (their
// calls in progress go on).
func (o *Outbound) Configure(defs []flows.TrunkDef) error {
	next := map[string]*outTrunk{}
	secure := &tlsTrunkSet{}
	for _, d := range defs {
		var u sip.Uri
		if err := sip.ParseUri(d.URI, &u); err != nil {
			return fmt.Errorf("trunk %s: %w", d.Name, err)
		}
		if tr := d.TransportOr(); tr != "UDP" {
			u.UriParams = sip.NewParams()
			u.UriParams.Add("transport", strings.ToLower(tr))
		}
		if d.TransportOr() == "TLS" {
			t, err := newTrunkTLS(d, u.Host)
			if err != nil {
				return fmt.Errorf("trunk %s: %w", d.Name, err)
			}
			secure.list = append(secure.list, t)
			if o.a.tls == nil {
				o.log.Warn("trunk over TLS, but kefu has no -tls-listen: the trunk's own requests (its BYE) reach kefu only over the connection kefu opened", "trunk", d.Name)
			}
		}
		next[d.Name] = &outTrunk{def: d, uri: u}
	}
	o.a.tlsTrunks.Store(secure)
	o.mu.Lock()
	defer o.mu.Unlock()
	for name, old := range o.trunks {
		if n := next[name]; n != nil && equalTrunk(n.def, old.def) {
			next[name] = old // unchanged: keeps its registration and calls
			continue
		}
		if old.stop != nil {
			old.stop()
		}
		if n := next[name]; n != nil {
			n.active = old.active
		}
	}
	o.trunks = next
	for _, t := range next {
		if t.reg == nil && t.def.Register && o.running {
			o.startReg(t)
		}
	}
	go o.onChange()
	return nil
}

func equalTrunk(a, b flows.TrunkDef) bool {
	return a.URI == b.URI && a.Transport == b.Transport && a.CAFile == b.CAFile && a.Pin == b.Pin && a.Username == b.Username && a.Password == b.Password &&
		a.Register == b.Register && a.ExpiresOr() == b.ExpiresOr() && a.CallerID == b.CallerID && a.Prefix == b.Prefix &&
		a.Calls() == b.Calls() && a.Ring() == b.Ring() && strings.EqualFold(a.SRTP, b.SRTP)
}

// startReg starts t's registration, if it registers; o.mu is held.
func (o *Outbound) startReg(t *outTrunk) {
	if !t.def.Register || t.reg != nil {
		return
	}
	port := o.a.udp.LocalAddr().(*net.UDPAddr).Port
	if t.def.TransportOr() == "TLS" && o.a.tls != nil {
		port = o.a.tlsPort
	}
	contact := sip.Uri{Scheme: "sip", User: orDefault(t.def.Username, "kefu"), Host: o.a.adv.String(), Port: port}
	if tr := t.def.TransportOr(); tr != "UDP" {
		contact.UriParams = sip.NewParams()
		contact.UriParams.Add("transport", strings.ToLower(tr))
	}
	reg, err := trunk.New(trunk.Config{
		Name: t.def.Name, Registrar: sip.Uri{Scheme: "sip", Host: t.uri.Host, Port: t.uri.Port}, Transport: t.def.TransportOr(),
		User: t.def.Username, Password: t.def.Password, Contact: contact, Expires: t.def.ExpiresOr(), UserAgent: o.a.cfg.UserAgent,
		Send: func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
			if req.Via() == nil && overTLS(req) {
				if err := o.a.addVia(o.a.client, req); err != nil { // sent-by: the TLS port
					return nil, err
				}
			}
			return o.a.client.Do(ctx, req)
		},
		Logger:   o.log,
		OnChange: func(trunk.Status) { o.onChange() },
	})
	if err != nil {
		o.log.Error("trunk registration not started", "trunk", t.def.Name, "error", err.Error())
		return
	}
	ctx, cancel := context.WithCancel(o.ctx)
	t.reg, t.stop = reg, cancel
	o.wg.Go(func() { reg.Run(ctx) })
}

// Up implements callback.Phone: the trunk is configured and, if it
// registers, registered.
func (o *Outbound) Up(name string) bool {
	o.mu.Lock()
	t := o.trunks[name]
	o.mu.Unlock()
	return t != nil && (t.reg == nil && !t.def.Register || t.reg != nil && t.reg.Up())
}

// take reserves a line of the named trunk for a call; false when the
// trunk is unknown, down or at its limit.
func (o *Outbound) take(name string) (*outTrunk, bool) {
	if !o.Up(name) {
		return nil, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.trunks[name]
	if t == nil || t.active >= t.def.Calls() {
		return nil, false
	}
	t.active++
	o.active.WithLabelValues(name).Set(float64(t.active))
	return t, true
}

// release gives back a line taken with take.
func (o *Outbound) release(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if t := o.trunks[name]; t != nil && t.active > 0 {
		t.active--
		o.active.WithLabelValues(name).Set(float64(t.active))
	}
}

// TrunkStatus is one trunk as /metrics and the ops API show it.
type TrunkStatus struct {
	Name     string `json:"name"`
	Register bool   `json:"register"`
	// State is the registration's: registered, failed or unregistered;
	// "" for a trunk that does not register.
	State    string `json:"state,omitempty"`
	Failures int    `json:"failures,omitempty"`
	Error    string `json:"error,omitempty"`
	Up       bool   `json:"up"`
	Active   int    `json:"active_calls"`
	MaxCalls int    `json:"max_calls"`
}

// Trunks returns the status of every configured trunk, by name.
func (o *Outbound) Trunks() []TrunkStatus {
	o.mu.Lock()
	ts := make([]*outTrunk, 0, len(o.trunks))
	for _, t := range o.trunks {
		ts = append(ts, t)
	}
	o.mu.Unlock()
	out := make([]TrunkStatus, 0, len(ts))
	for _, t := range ts {
		s := TrunkStatus{Name: t.def.Name, Register: t.def.Register, Up: o.Up(t.def.Name), MaxCalls: t.def.Calls()}
		if t.reg != nil {
			st := t.reg.Status()
			s.State, s.Failures, s.Error = st.State.String(), st.Failures, st.Err
		}
		o.mu.Lock()
		s.Active = t.active
		o.mu.Unlock()
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b TrunkStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// trunkCollector exports the trunks' state.
type trunkCollector struct{ o *Outbound }

var (
	trunkUpDesc = prometheus.NewDesc("kefu_trunk_up",
		"Whether kefu may place calls through the trunk now (configured, and registered if it registers).", []string{"trunk"}, nil)
	trunkRegDesc = prometheus.NewDesc("kefu_trunk_registration_state",
		"The trunk's registration: 1 for its state (registered, failed, unregistered); trunks that do not register are not listed.",
		[]string{"trunk", "state"}, nil)
	trunkFailDesc = prometheus.NewDesc("kefu_trunk_registration_failures",
		"Failed REGISTERs to the trunk in a row (0 once registered).", []string{"trunk"}, nil)
)

// Describe implements prometheus.Collector.
func (c trunkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- trunkUpDesc
	ch <- trunkRegDesc
	ch <- trunkFailDesc
}

// Collect implements prometheus.Collector.
func (c trunkCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range c.o.Trunks() {
		up := 0.0
		if t.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(trunkUpDesc, prometheus.GaugeValue, up, t.Name)
		if !t.Register {
			continue
		}
		for _, s := range []trunk.State{trunk.Registered, trunk.Failed, trunk.Unregistered} {
			v := 0.0
			if s.String() == t.State || t.State == "" && s == trunk.Unregistered {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(trunkRegDesc, prometheus.GaugeValue, v, t.Name, s.String())
		}
		ch <- prometheus.MustNewConstMetric(trunkFailDesc, prometheus.GaugeValue, float64(t.Failures), t.Name)
	}
}
