package flows

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/kefu-hotline/kefu/flows/screen"
)

// The flows of the nuisance path and of a system-down notice, by default.
const (
	// DefaultNuisanceFlow is the flow routed nuisance calls run: the
	// configuration's, or BuiltinNuisanceFlow when it has none.
	DefaultNuisanceFlow = "nuisance"
	// NuisanceQueueFlow is the flow they run with screening's
	// nuisance_queue on: the separate nuisance queue (CS-NUISANCE step 3).
	NuisanceQueueFlow = "nuisance_queue"
	// DefaultSystemDownFlow is the system-down flow (CS-SYSTEM-DOWN) when
	// screening names none.
	DefaultSystemDownFlow = "down"
)

// BuiltinNuisanceFlow is the nuisance path kefu adds to a configuration
// that routes nuisance calls to the default flow but does not define it:
// the line-fault message twice, then hang up (CS-NUISANCE).
const BuiltinNuisanceFlow = `steps:
  - name: fault
    say:
      prompt: nuisance
  - name: again
    say:
      prompt: nuisance
  - name: end
    hangup: {}
`

// ScreenConfig returns the screening policy of the configuration.
func (c *Config) ScreenConfig() (screen.Config, error) {
	var sc screen.Config
	s := c.Screening
	if s == nil {
		return sc, nil
	}
	sc.Repeat.Off = s.RepeatOff
	sc.Repeat.Calls = s.RepeatCalls
	sc.Repeat.Window = s.RepeatWindow.or(0)
	sc.Repeat.Block = s.RepeatBlock.or(0)
	sc.Repeat.Spare = s.RepeatSpare.or(0)
	var err error
	if sc.Repeat.Action, err = parseAction(s.RepeatAction); err != nil {
		return sc, fmt.Errorf("repeat_action: %w", err)
	}
	if sc.Anonymous, err = parseAction(s.Anonymous); err != nil {
		return sc, fmt.Errorf("anonymous: %w", err)
	}
	if err := sc.Validate(); err != nil {
		return sc, err
	}
	return sc, nil
}

// NuisanceFlow returns the name of the flow routed nuisance calls run.
func (c *Config) NuisanceFlow() string {
	switch s := c.Screening; {
	case s != nil && s.NuisanceQueue:
		return NuisanceQueueFlow
	case s != nil && s.NuisanceFlow != "":
		return s.NuisanceFlow
	}
	return DefaultNuisanceFlow
}

// SystemDown reports whether flow is a system-down flow: a call routed to
// it is one kefu cut short (CS-ANGRY).
func (c *Config) SystemDown(flow string) bool {
	if c.Screening != nil && c.Screening.SystemDownFlows != nil {
		return slices.Contains(c.Screening.SystemDownFlows, flow)
	}
	return flow == DefaultSystemDownFlow
}

// addBuiltinNuisance gives a configuration with flows but no nuisance
// flow of the default name the built-in one, unless screening sends
// nuisance calls to another flow. Its ending is CS-NUISANCE's, so ops' closing phrases do not
// apply to it.
func (c *Config) addBuiltinNuisance() {
	if len(c.Flows) == 0 || c.NuisanceFlow() != DefaultNuisanceFlow {
		return
	}
	if _, ok := c.Flows[DefaultNuisanceFlow]; ok {
		return
	}
	var f Flow
	if err := yaml.UnmarshalWithOptions([]byte(BuiltinNuisanceFlow), &f, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		panic("flows: the built-in nuisance flow: " + err.Error())
	}
	f.builtin = true
	c.Flows[DefaultNuisanceFlow] = &f
}

// validateScreening checks the screening block: the policy, and the flows
// it names exist.
func (c *Config) validateScreening(p *problems) {
	if _, err := c.ScreenConfig(); err != nil {
		p.at("$.screening", "%v", err)
	}
	s := c.Screening
	if s == nil {
		s = &Screening{}
	}
	if s.NuisanceQueue && s.NuisanceFlow != "" && s.NuisanceFlow != DefaultNuisanceFlow && s.NuisanceFlow != NuisanceQueueFlow {
		p.at("$.screening.nuisance_queue", "nuisance_queue sends nuisance calls to flow %q, nuisance_flow to %q: set one of them", NuisanceQueueFlow, s.NuisanceFlow)
	}
	if _, ok := c.Flows[c.NuisanceFlow()]; !ok && len(c.Flows) > 0 {
		path := "$.screening.nuisance_flow"
		if s.NuisanceQueue {
			path = "$.screening.nuisance_queue"
		}
		p.at(path, "nuisance calls go to flow %q, which does not exist (flows: %s)", c.NuisanceFlow(), strings.Join(c.flowNames(), ", "))
	}
	for i, name := range s.SystemDownFlows {
		if _, ok := c.Flows[name]; !ok {
			p.at(fmt.Sprintf("$.screening.system_down_flows[%d]", i), "system-down flow %q does not exist (flows: %s)", name, strings.Join(c.flowNames(), ", "))
		}
	}
}

// parseAction reads "allow", "reject", "reject 486" or "route".
func parseAction(s string) (screen.Action, error) {
	f := strings.Fields(s)
	switch {
	case len(f) == 0:
		return screen.Action{}, nil
	case f[0] == "allow" && len(f) == 1:
		return screen.Action{Kind: screen.Allow}, nil
	case f[0] == "route" && len(f) == 1:
		return screen.DefaultAction, nil
	case f[0] == "reject" && len(f) <= 2:
		code := 603
		if len(f) == 2 {
			n, err := strconv.Atoi(f[1])
			if err != nil || n < 400 || n > 699 {
				return screen.Action{}, fmt.Errorf("%q: the code must be a SIP error status like 603, 486 or 403", s)
			}
			code = n
		}
		return screen.Action{Kind: screen.Reject, Code: code}, nil
	}
	return screen.Action{}, fmt.Errorf("%q: want allow, reject [CODE] or route", s)
}
