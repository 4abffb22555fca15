package flows

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
)

// AgentDesk is what an agent's phone may change by feature codes: their
// own state on the distribution board (flows/agents.Board).
type AgentDesk interface {
	Ready(id string) error
	Pause(id, reason string) error
	SignOut(id string) error
}

// The feature codes an agent dials from their phone.
const (
	FeatureReady   = "*1"
	FeaturePause   = "*2"
	FeatureSignOut = "*0"
)

// RefusedByAgents refuses a call from an agent's phone to anything but a
// feature code: agents' phones may not place calls through kefu (no toll
// fraud).
const RefusedByAgents = "agents"

// featureFlows maps each confirmation prompt to the built-in flow a
// feature code runs: the confirmation, then the hang-up.
var featureFlows = map[string]string{
	"agent.ready":     "feature.ready",
	"agent.paused":    "feature.paused",
	"agent.signedout": "feature.signedout",
	"agent.invalid":   "feature.invalid",
}

// addBuiltinFeatures gives a configuration with agents the feature-code
// flows; ops' closing phrases do not apply to them.
func (c *Config) addBuiltinFeatures() {
	if len(c.Agents) == 0 || len(c.Flows) == 0 {
		return
	}
	for prompt, name := range featureFlows {
		if _, ok := c.Flows[name]; ok {
			continue
		}
		var f Flow
		src := fmt.Sprintf("steps:\n  - name: confirm\n    say: {prompt: %s}\n  - name: end\n    hangup: {}\n", prompt)
		if err := yaml.UnmarshalWithOptions([]byte(src), &f, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
			panic("flows: the feature-code flows: " + err.Error())
		}
		f.builtin = true
		c.Flows[name] = &f
	}
}

// featureCode reports whether a call to the dialled number to is a
// feature code ("*2", or "%2A2" as some phones escape it).
func featureCode(to string) bool {
	return strings.HasPrefix(to, "*") || strings.HasPrefix(strings.ToUpper(to), "%2A")
}

// refuseFeature refuses a feature code dialled from anything but an
// agent's registered phone (whatever its From says: anyone can write
// that), when the configuration has agents whose state it would change.
func (b *Bundle) refuseFeature(inv Invite) *Refusal {
	if len(b.Config.Agents) == 0 || !featureCode(inv.To) {
		return nil
	}
	return &Refusal{Code: 403, By: RefusedByAgents, Reason: "feature codes are dialled from an agent's registered phone only"}
}

// admitAgent admits a call from agent id's own phone (the sip layer has
// checked it comes from the phone's registration): a feature code changes
// the agent's state and runs its confirmation; any other number is
// refused.
func (b *Bundle) admitAgent(inv Invite, info CallInfo) (Admission, *Refusal, error) {
	adm := Admission{Info: info}
	code := strings.ToUpper(strings.ReplaceAll(inv.To, "%2A", "*"))
	if !strings.HasPrefix(code, "*") {
		return adm, &Refusal{Code: 403, By: RefusedByAgents, Reason: "an agent's phone dials only feature codes (*1 ready, *2 pause, *0 sign out)"}, nil
	}
	prompt := "agent.invalid"
	var err error
	switch {
	case b.Desk == nil:
	case code == FeatureReady:
		prompt, err = "agent.ready", b.Desk.Ready(inv.Agent)
	case code == FeaturePause:
		prompt, err = "agent.paused", b.Desk.Pause(inv.Agent, "break")
	case code == FeatureSignOut:
		prompt, err = "agent.signedout", b.Desk.SignOut(inv.Agent)
	}
	if err != nil {
		return adm, nil, fmt.Errorf("feature code %s of agent %s: %w", code, inv.Agent, err)
	}
	flow, ok := b.Config.Flow(featureFlows[prompt])
	if !ok {
		return adm, nil, fmt.Errorf("no feature-code flow for %s", prompt)
	}
	adm.Flow, adm.Path = flow, []string{"feature " + code}
	return adm, nil, nil
}
