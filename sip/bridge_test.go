package sip

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/emiago/sipgo/siptest"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/sip/sdp"
	pionrtp "github.com/pion/rtp"
)

// rtpPeer is one far end's RTP socket in a bridge test.
type rtpPeer struct {
	t    *testing.T
	conn *net.UDPConn
	seq  uint16
}

func newRTPPeer(t *testing.T) *rtpPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &rtpPeer{t: t, conn: conn}
}

func (p *rtpPeer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// send sends n PCMU packets of payload to port on loopback.
func (p *rtpPeer) send(port, n int, payload []byte) {
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	for range n {
		p.seq++
		pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: p.seq, Timestamp: uint32(p.seq) * 160, SSRC: 7}, Payload: payload}
		b, err := pkt.Marshal()
		if err != nil {
			p.t.Fatal(err)
		}
		if _, err := p.conn.WriteTo(b, to); err != nil {
			p.t.Fatal(err)
		}
	}
}

// hears reports whether a packet carrying payload arrives within 2 s.
func (p *rtpPeer) hears(payload []byte) bool {
	buf := make([]byte, 1500)
	_ = p.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		n, err := p.conn.Read(buf)
		if err != nil {
			return false
		}
		var pkt pionrtp.Packet
		if pkt.Unmarshal(buf[:n]) == nil && bytes.Equal(pkt.Payload, payload) {
			return true
		}
	}
}

// TestIntegrationTransferBridgeRelay runs a whole bridge on loopback RTP
// (SIP through fakes): the caller refuses the REFER, the destination
// answers, audio from each side reaches the other, and when the
// destination hangs up kefu answers its BYE, hangs up the caller, and
// frees the bridge's port.
func TestIntegrationTransferBridgeRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("loopback RTP: skipped with -short")
	}
	caller, dest := newRTPPeer(t), newRTPPeer(t)
	destination := func(req *sip.Request) *sip.Response {
		switch req.Method {
		case sip.REFER:
			return sip.NewResponseFromRequest(req, 501, "Not Implemented", nil)
		case sip.INVITE:
			body := sdp.BuildOffer(sdp.Local{Addr: dest.addr().Addr(), Port: int(dest.addr().Port()), Codecs: []media.Codec{media.CodecPCMU}}, false, sdp.SendRecv)
			res := sip.NewResponseFromRequest(req, 200, "OK", body)
			res.To().Params.Add("tag", "desttag")
			res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "8001", Host: "127.0.0.1", Port: 5090}})
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			return res
		case sip.ACK:
			return nil
		}
		return sip.NewResponseFromRequest(req, 200, "OK", nil)
	}
	pool, err := newTestPool()
	if err != nil {
		t.Fatal(err)
	}
	pctx, stopPacer := context.WithCancel(context.Background())
	defer stopPacer()
	var conn *net.UDPConn
	c, sent := newTestCall(t, destination, func(c *call) {
		c.a.ports = pool
		c.a.pacer = media.NewPacer(pctx, 1)
		timeout := flows.Duration(time.Minute)
		c.snap = &flows.Bundle{Config: &flows.Config{MediaTimeout: &timeout}}
		if conn, err = pool.Listen(); err != nil {
			t.Fatal(err)
		}
		c.answer = sdp.Answer{Codec: media.CodecPCMU, PT: 0, Ptime: 20 * time.Millisecond, Remote: caller.addr()}
		c.m = newCallMedia(c, conn, c.answer, nil)
		c.m.start()
	})
	defer pool.Release(conn)
	defer c.m.stop()
	a := c.a

	done := make(chan error, 1)
	go func() {
		res, err := c.Transfer(c.ctx, "sip:8001@127.0.0.1:5090", 20*time.Second)
		if err == nil && res.How != "bridge" {
			err = errors.New("transferred by " + res.How)
		}
		done <- err
	}()
	next(t, sent, sip.REFER)
	invite := next(t, sent, sip.INVITE)
	next(t, sent, sip.ACK)
	offer, err := sdp.ParseOffer(invite.Body())
	if err != nil {
		t.Fatal(err)
	}
	// Each side's audio reaches the other, in its own stream.
	fromDest, fromCaller := make([]byte, media.FrameBytes), make([]byte, media.FrameBytes)
	_ = g711.Encode(media.CodecPCMU, fromDest, frameOf(4000, media.FrameSamples))
	_ = g711.Encode(media.CodecPCMU, fromCaller, frameOf(-2500, media.FrameSamples))
	dest.send(offer.Port, 5, fromDest)
	if !caller.hears(fromDest) {
		t.Error("the destination's audio did not reach the caller")
	}
	caller.send(conn.LocalAddr().(*net.UDPAddr).Port, 5, fromCaller)
	if !dest.hears(fromCaller) {
		t.Error("the caller's audio did not reach the destination")
	}

	// The destination hangs up.
	bye := sip.NewRequest(sip.BYE, sip.Uri{Scheme: "sip", User: "kefu", Host: "127.0.0.1", Port: 5060})
	from := invite.To().AsFrom()
	from.Params = sip.NewParams()
	from.Params.Add("tag", "desttag")
	to := invite.From().AsTo()
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: 5090, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	bye.AppendHeader(via)
	bye.AppendHeader(&from)
	bye.AppendHeader(&to)
	bye.AppendHeader(sip.HeaderClone(invite.CallID()))
	bye.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.BYE})
	tx := siptest.NewServerTxRecorder(bye)
	a.inDialog(bye, tx)
	if res := tx.Result(); len(res) != 1 || res[0].StatusCode != 200 {
		t.Fatalf("the destination's BYE was answered %v", res)
	}
	next(t, sent, sip.BYE) // to the caller
	if err := <-done; err != nil {
		t.Fatalf("Transfer: %v", err)
	}
	if cause := context.Cause(c.ctx); !errors.Is(cause, errTransferred) {
		t.Errorf("call ended with %v", cause)
	}
	if n := pool.InUse(); n != 1 {
		t.Errorf("%d RTP ports in use, want 1 (the caller's)", n)
	}
	if l := a.legFor(bye); l != nil {
		t.Error("the bridged leg is still registered")
	}
}
