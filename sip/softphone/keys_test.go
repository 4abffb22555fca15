package softphone

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/emiago/sipgo/siptest"
)

// TestInfoKeysFollowTheDialog: behind a proxy that record-routes, the
// INFO of `kefu dial -keys` goes to the Contact of kefu's answer through
// the route set, not to the hotline's address the INVITE was sent to
// (which the proxy would take for a new request), and carries its
// Content-Length.
func TestInfoKeysFollowTheDialog(t *testing.T) {
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	const (
		proxy = "<sip:127.0.0.1:5080;lr;r2=on>"
		node  = "sip:kefu@127.0.0.1:5071"
	)
	sent := make(chan *sip.Request, 4)
	client.TxRequester = &siptest.ClientTxRequesterResponder{OnRequest: func(req *sip.Request, w *siptest.ClientTxResponder) {
		sent <- req
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if req.IsInvite() {
			res.To().Params.Add("tag", "kefu")
			res.AppendHeader(sip.NewHeader("Record-Route", proxy))
			res.AppendHeader(sip.NewHeader("Contact", "<"+node+">"))
		}
		w.Receive(res)
	}}
	dua := &sipgo.DialogUA{Client: client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "dial", Host: "127.0.0.1", Port: 5070}}}
	inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "hotline", Host: "127.0.0.1", Port: 5080})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	dlg, err := dua.WriteInvite(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	<-sent // the INVITE
	ev := infoKeys(dlg, remoteTarget(dlg))(ctx, '5')
	if ev.Code != 200 || ev.Via != ViaInfo {
		t.Errorf("key event %+v, want the INFO answered 200", ev)
	}
	info := <-sent
	if info.Method != sip.INFO || info.Recipient.String() != node {
		t.Errorf("%s to %s, want INFO to kefu's Contact %s", info.Method, info.Recipient.String(), node)
	}
	if rt := info.GetHeader("Route"); rt == nil || rt.Value() != proxy {
		t.Errorf("INFO Route %v, want the record-routed proxy %s", rt, proxy)
	}
	if d := info.Destination(); d != "127.0.0.1:5080" {
		t.Errorf("INFO sent to %s, want the proxy 127.0.0.1:5080", d)
	}
	if cl := info.ContentLength(); cl == nil || int(*cl) != len(info.Body()) || len(info.Body()) == 0 {
		t.Errorf("INFO Content-Length %v for %q", cl, info.Body())
	}
}
