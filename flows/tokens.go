package flows

import (
	"fmt"
	"strings"
)

// TokenDef is a bearer token of the ops API as the config keeps it: who
// holds it, its role (viewer, agent, operator), the SHA-256 of the secret
// (`kefu token` makes one), and for an agent's token the agent's id.
type TokenDef struct {
	Name   string `yaml:"name"`
	Role   string `yaml:"role"`
	SHA256 string `yaml:"sha256"`
	Agent  string `yaml:"agent"`
}

// validateTokens checks the ops tokens.
func (c *Config) validateTokens(p *problems) {
	names := map[string]bool{}
	for i, t := range c.OpsTokens {
		path := fmt.Sprintf("$.ops_tokens[%d]", i)
		switch t.Role {
		case "viewer", "operator":
		case "agent":
			if !c.hasAgent(t.Agent) {
				p.at(path+".agent", "token %s: an agent's token names its agent: agent: ID of one under agents:", t.Name)
			}
		default:
			p.at(path+".role", "token %s: role %q: use viewer, agent or operator", t.Name, t.Role)
		}
		if t.Name == "" || names[t.Name] {
			p.at(path+".name", "each token has a name of its own (the audit log says who did what by it)")
		}
		names[t.Name] = true
		if len(t.SHA256) != 64 || strings.Trim(strings.ToLower(t.SHA256), "0123456789abcdef") != "" {
			p.at(path+".sha256", "token %s: sha256 is the 64 hex digits `kefu token` prints, never the secret itself", t.Name)
		}
	}
}

func (c *Config) hasAgent(id string) bool {
	for _, a := range c.Agents {
		if a.ID == id {
			return id != ""
		}
	}
	return false
}
