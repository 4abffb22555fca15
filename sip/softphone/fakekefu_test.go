package softphone

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/prompts"
	"github.com/kefu-hotline/kefu/sip/sdp"
	pionrtp "github.com/pion/rtp"
)

// fakeKefu stands in for kefu in the agent tests, on loopback: a registrar
// that challenges each REGISTER and checks the digest answer with
// icholy/digest (the same computation a real registrar makes), and a
// caller that INVITEs the registered contact with a sipgo client.
type fakeKefu struct {
	t        *testing.T
	addr     string
	password string
	alg      string // the algorithm challenged with: "MD5" or "SHA-256"
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	client   *sipgo.Client
	dialogs  *sipgo.DialogClientCache

	mu      sync.Mutex
	nonce   int
	contact sip.Uri
	lastNC  map[string]int
	regs    []fakeReg
	regCh   chan fakeReg
	byes    chan struct{}
}

// fakeReg is one REGISTER the fake registrar answered.
type fakeReg struct {
	expires int
	code    int
	alg     string
}

func newFakeKefu(t *testing.T, password, alg string) *fakeKefu {
	t.Helper()
	k := &fakeKefu{t: t, password: password, alg: alg, lastNC: map[string]int{}, regCh: make(chan fakeReg, 16), byes: make(chan struct{}, 4)}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	k.addr = pc.LocalAddr().String()
	if k.ua, err = sipgo.NewUA(sipgo.WithUserAgent("fake-kefu"), sipgo.WithUserAgentHostname("127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	k.ua.TransportLayer().Pool("udp").Add(k.addr, &sip.UDPConnection{PacketConn: pc, PacketAddr: k.addr, Listener: true})
	if k.srv, err = sipgo.NewServer(k.ua); err != nil {
		t.Fatal(err)
	}
	if k.client, err = sipgo.NewClient(k.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(k.addr)); err != nil {
		t.Fatal(err)
	}
	k.dialogs = sipgo.NewDialogClientCache(k.client, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "kefu", Host: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port}})
	k.srv.OnRegister(k.onRegister)
	k.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := k.dialogs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
		k.byes <- struct{}{}
	})
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = k.srv.ServeUDP(pc)
	}()
	t.Cleanup(func() {
		_ = k.srv.Close()
		_ = k.client.Close()
		_ = k.ua.Close()
		_ = pc.Close()
		<-served
	})
	return k
}

func (k *fakeKefu) uri() string { return "sip:" + k.addr }

// onRegister challenges, checks the credentials against the last nonce,
// and binds the contact.
func (k *fakeKefu) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	k.mu.Lock()
	defer k.mu.Unlock()
	reply := func(code int, reason string, hdrs ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		_ = tx.Respond(res)
	}
	chal := &digest.Challenge{Realm: "kefu", Nonce: "n" + strconv.Itoa(k.nonce), Algorithm: k.alg, QOP: []string{"auth"}}
	challenge := func() {
		k.nonce++
		chal.Nonce = "n" + strconv.Itoa(k.nonce)
		reply(401, "Unauthorized", sip.NewHeader("WWW-Authenticate", chal.String()))
	}
	h := req.GetHeader("Authorization")
	if h == nil {
		challenge()
		return
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Nonce != chal.Nonce || cred.Nc <= k.lastNC[cred.Nonce] || cred.Algorithm != k.alg {
		challenge()
		return
	}
	want, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: cred.URI, Username: cred.Username,
		Password: k.password, Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil || want.Response != cred.Response || cred.URI != req.Recipient.Addr() {
		k.regCh <- fakeReg{code: 401, alg: cred.Algorithm}
		challenge()
		return
	}
	k.lastNC[cred.Nonce] = cred.Nc
	exp, _ := strconv.Atoi(req.GetHeader("Expires").Value())
	k.contact = req.Contact().Address
	reg := fakeReg{expires: exp, code: 200, alg: cred.Algorithm}
	k.regs = append(k.regs, reg)
	k.regCh <- reg
	c := sip.ContactHeader{Address: k.contact, Params: sip.NewParams()}
	c.Params.Add("expires", strconv.Itoa(exp))
	reply(200, "OK", &c)
}

// waitReg waits (bounded) for the next REGISTER the registrar judged.
func (k *fakeKefu) waitReg() fakeReg {
	k.t.Helper()
	select {
	case r := <-k.regCh:
		return r
	case <-time.After(10 * time.Second):
		k.t.Fatal("no REGISTER came")
		return fakeReg{}
	}
}

// invite offers a call to the registered contact with an SDP offer for
// codec (and telephone-event) from rtpConn, and extra headers.
func (k *fakeKefu) invite(ctx context.Context, rtpConn *net.UDPConn, codec media.Codec, hdrs ...sip.Header) *sipgo.DialogClientSession {
	k.t.Helper()
	k.mu.Lock()
	contact := k.contact
	k.mu.Unlock()
	offer := sdp.BuildOffer(sdp.Local{Addr: netip.MustParseAddr("127.0.0.1"), Port: rtpConn.LocalAddr().(*net.UDPAddr).Port,
		Codecs: []media.Codec{codec}, SessionID: 7, SessionVersion: 1}, true, sdp.SendRecv)
	req := sip.NewRequest(sip.INVITE, contact)
	req.SetTransport("UDP")
	from := &sip.FromHeader{DisplayName: "customers", Address: sip.Uri{Scheme: "sip", User: "13800138000", Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	for _, h := range hdrs {
		req.AppendHeader(h)
	}
	req.SetBody(offer)
	dlg, err := k.dialogs.WriteInvite(ctx, req)
	if err != nil {
		k.t.Fatalf("INVITE: %v", err)
	}
	return dlg
}

// rtpPeer is the caller's RTP socket: it plays a clip to the agent with
// the softphone's own player and sender, and keeps what the agent sends.
type rtpPeer struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pkts []pionrtp.Packet
}

func newRTPPeer(t *testing.T) *rtpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{conn: c}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			var pkt pionrtp.Packet
			if pkt.Unmarshal(slices.Clone(buf[:n])) == nil {
				p.mu.Lock()
				p.pkts = append(p.pkts, pkt)
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	return p
}

// play sends pcm to the agent's SDP address as codec, paced, from now on
// until ctx ends (silence after the clip).
func (p *rtpPeer) play(ctx context.Context, t *testing.T, answer []byte, codec media.Codec, pcm []int16) {
	t.Helper()
	ans, err := sdp.ParseAnswer(answer)
	if err != nil {
		t.Fatalf("agent's SDP answer: %v", err)
	}
	snd := newSender(p.conn, ans.Remote, codec.PayloadType(), 0, 99)
	player := media.NewPlayer(snd, codec, g711.Silence(codec))
	go func() { _ = player.Run(ctx) }()
	go func() {
		_ = player.Play(ctx, media.NewClipSource("tone", prompts.NewPrompt("tone", "", "tone", pcm), false))
	}()
}

// received returns the packets the agent sent so far.
func (p *rtpPeer) received() []pionrtp.Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.pkts)
}
