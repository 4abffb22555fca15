package flows

import "context"

// Answer marks where the call is answered; steps before it (branch, goto,
// reject) run on the INVITE. Without it the first step that needs audio
// answers the call.
type Answer struct{}

func (*Answer) instant() {}

// run has nothing to do: the call was answered when the flow started.
func (*Answer) run(context.Context, *Runner) (string, error) { return "", nil }

func (*Answer) exits() []exit { return onward }

func (*Answer) check(*stepCheck) {}

func (*Answer) label() string { return "answer" }
