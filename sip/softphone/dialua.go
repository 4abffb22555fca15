package softphone

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// dialUserAgent is the User-Agent header of kefu dial's requests.
const dialUserAgent = "kefu-dial"

// endpoint is kefu dial's SIP side: the stack, the client dialog that
// places the call, and the far end's BYE.
type endpoint struct {
	*stack
	dialogs *sipgo.DialogClientCache
	target  sip.Uri
	from    sip.Uri
	byes    chan time.Time
}

// newEndpoint parses the addresses of cfg and starts a user agent whose
// connection binds cfg.Listen.
func newEndpoint(cfg *Config, log *slog.Logger) (*endpoint, error) {
	e := &endpoint{byes: make(chan time.Time, 1)}
	var err error
	if e.target, err = parseSIPURI("target", cfg.Target); err != nil {
		return nil, err
	}
	if err := sip.ParseUri(cfg.From, &e.from); err != nil {
		return nil, fmt.Errorf("softphone: from %q: %w", cfg.From, err)
	}
	if e.from.Host == "" || e.from.User == "" {
		return nil, fmt.Errorf("softphone: from %q: want sip:user@host", cfg.From)
	}
	if e.stack, err = newStack(cfg.Listen, strings.ToUpper(cfg.Transport), e.target, dialUserAgent, log); err != nil {
		return nil, err
	}
	e.server.OnBye(e.onBye)
	e.server.OnOptions(answerOptions)
	e.serve()
	e.dialogs = sipgo.NewDialogClientCache(e.client, sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: e.from.User, Host: e.advertise.String()},
	})
	return e, nil
}

// answerOptions answers OPTIONS (keep-alives, health checks) with 200.
func answerOptions(req *sip.Request, tx sip.ServerTransaction) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
}

// onBye answers the far end's BYE and tells the call.
func (e *endpoint) onBye(req *sip.Request, tx sip.ServerTransaction) {
	at := time.Now()
	if err := e.dialogs.ReadBye(req, tx); err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	select {
	case e.byes <- at:
	default:
	}
}

// invite sends the INVITE with the SDP offer and returns the early dialog.
func (e *endpoint) invite(ctx context.Context, offer []byte) (*sipgo.DialogClientSession, error) {
	req := sip.NewRequest(sip.INVITE, e.target)
	req.SetTransport(e.transport)
	from := &sip.FromHeader{Address: e.from, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(sip.NewHeader("User-Agent", dialUserAgent))
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	s, err := e.dialogs.WriteInvite(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("softphone: send INVITE: %w", err)
	}
	return s, nil
}
