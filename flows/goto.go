package flows

import "context"

// GotoStep is the goto verb: go on at the named step.
type GotoStep string

func (GotoStep) instant() {}

func (g GotoStep) run(context.Context, *Runner) (string, error) { return string(g), nil }

func (g GotoStep) exits() []exit { return []exit{{to: string(g)}} }

func (GotoStep) check(*stepCheck) {}

func (GotoStep) label() string { return "goto" }
