package flows

import (
	"context"
	"fmt"
)

// Reject refuses the call before it is answered, with a SIP status
// (default 603 Decline; 486 Busy Here, 403 Forbidden, 480, 404 ...).
type Reject struct {
	Code   int    `yaml:"code"`
	Reason string `yaml:"reason"` // a reason code for the call record and the log
}

// DefaultRejectCode is the status of a reject without a code: 603 Decline.
const DefaultRejectCode = 603

func (j *Reject) code() int {
	if j.Code == 0 {
		return DefaultRejectCode
	}
	return j.Code
}

func (*Reject) instant() {}

// run is reached only on the INVITE (Config.Start stops there); the
// checks keep a reject before any step that answers, so after the answer
// it is a bug in the flow.
func (j *Reject) run(context.Context, *Runner) (string, error) {
	return "", fmt.Errorf("reject after the call was answered")
}

func (j *Reject) exits() []exit { return []exit{{end: fmt.Sprintf("reject %d", j.code())}} }

func (j *Reject) check(sc *stepCheck) {
	if j.Code != 0 && (j.Code < 400 || j.Code > 699) {
		sc.at("code", "reject code %d is not a SIP error status (400-699; 603 Decline by default)", j.Code)
	}
}

func (j *Reject) label() string { return "reject" }
