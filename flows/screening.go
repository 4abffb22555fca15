package flows

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// DefaultNuisanceFlow is the flow routed nuisance calls run.
const DefaultNuisanceFlow = "nuisance"

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
	var err error
	if sc.Repeat.Action, err = parseAction(s.RepeatAction); err != nil {
		return sc, fmt.Errorf("repeat_action: %w", err)
	}
	if sc.Anonymous, err = parseAction(s.Anonymous); err != nil {
		return sc, fmt.Errorf("anonymous: %w", err)
	}
	return sc, nil
}

// NuisanceFlow returns the name of the flow routed nuisance calls run.
func (c *Config) NuisanceFlow() string {
	if c.Screening != nil && c.Screening.NuisanceFlow != "" {
		return c.Screening.NuisanceFlow
	}
	return DefaultNuisanceFlow
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
		return screen.Action{Kind: screen.Route, Target: "nuisance"}, nil
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
