package softphone

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// serve installs the agent phone's request handlers and starts serving.
// Each new INVITE's handler runs its call to the end (the net/http
// handler contract): that goroutine owns the call.
func (a *agent) serve() {
	srv := a.st.server
	srv.OnInvite(a.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = a.dialogs.ReadAck(req, tx) // an ACK of a re-INVITE's 200 needs nothing
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := a.dialogs.ReadBye(req, tx); err != nil {
			respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		}
	})
	srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL that matched a ringing INVITE was answered by the
		// transaction layer (200, then 487 to the INVITE); this one did not.
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	})
	srv.OnOptions(answerOptions)
	srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		respond(tx, req, sip.StatusOK, "OK") // relayed key presses: heard, not reported
	})
	a.st.serve()
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
}

// onInvite serves a new INVITE as an offered call, or a re-INVITE of an
// answered one.
func (a *agent) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		a.onReinvite(req, tx)
		return
	}
	if !a.accepting.Load() {
		respond(tx, req, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
		return
	}
	c := &agentCall{a: a, req: req, tx: tx, reinvites: make(chan reinvite), rec: &AgentCall{N: int(a.offered.Add(1))}}
	a.wg.Add(1)
	defer a.wg.Done()
	c.run()
	a.ended <- struct{}{}
}

// onReinvite hands a re-INVITE to the call's owner.
func (a *agent) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	id, err := sip.DialogIDFromRequestUAS(req)
	a.mu.Lock()
	c := a.calls[id]
	a.mu.Unlock()
	if err != nil || c == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	ri := reinvite{req: req, tx: tx, done: make(chan struct{})}
	select {
	case c.reinvites <- ri:
		<-ri.done
	case <-c.over:
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	}
}

// waitHeader carries how long the caller waited in kefu's queue, seconds.
const waitHeader = "X-Kefu-Wait"

// caller reads who is calling from an offer: the number from
// P-Asserted-Identity (else From), the display name from From (else
// P-Asserted-Identity), the queue from the queue header and the wait from
// X-Kefu-Wait, and the number first called from Diversion (else
// History-Info).
func (a *agent) caller(req *sip.Request, rec *AgentCall) {
	if from := req.From(); from != nil {
		rec.From, rec.Display = from.Address.User, from.DisplayName
	}
	if user, display, ok := addressOf(req, "P-Asserted-Identity"); ok {
		rec.From = user
		if rec.Display == "" {
			rec.Display = display
		}
	}
	if h := req.GetHeader(a.cfg.QueueHeader); h != nil {
		rec.Queue = strings.TrimSpace(h.Value())
	}
	rec.Wait = -1
	if h := req.GetHeader(waitHeader); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			rec.Wait = time.Duration(n) * time.Second
		}
	}
	if user, _, ok := addressOf(req, "Diversion"); ok {
		rec.Called = user
	} else if user, _, ok := addressOf(req, "History-Info"); ok {
		rec.Called = user
	}
	if id := req.CallID(); id != nil {
		rec.CallID = id.Value()
	}
}

// addressOf parses the first address of a name-addr header.
func addressOf(req *sip.Request, name string) (user, display string, ok bool) {
	h := req.GetHeader(name)
	if h == nil {
		return "", "", false
	}
	v := h.Value()
	if parts := splitContacts(v); len(parts) > 0 {
		v = parts[0]
	}
	var u sip.Uri
	params := sip.NewParams()
	display, err := sip.ParseAddressValue(v, &u, &params)
	if err != nil {
		return "", "", false
	}
	if strings.EqualFold(u.Scheme, "tel") { // sipgo keeps no number for tel: URIs
		_, num, _ := strings.Cut(v, ":")
		num, _, _ = strings.Cut(num, ";")
		num, _, _ = strings.Cut(num, ">")
		return strings.TrimSpace(num), display, true
	}
	return u.User, display, true
}
