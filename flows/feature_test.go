package flows

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// agentsYAML adds two agents to the default configuration.
const agentsYAML = `
agents:
  - id: "8001"
    name: 王芳
    password: kefu-8001-secret
    queues: [customers]
  - id: "8002"
    name: 李明
    password: kefu-8002-secret
    queues: [customers, {name: cantonese, level: 1}, {name: supervisors, level: 2}]
`

type fakeDesk struct{ did []string }

func (d *fakeDesk) Ready(id string) error { d.did = append(d.did, "ready "+id); return nil }
func (d *fakeDesk) Pause(id, reason string) error {
	d.did = append(d.did, "pause "+id+" "+reason)
	return nil
}
func (d *fakeDesk) SignOut(id string) error { d.did = append(d.did, "signout "+id); return nil }

func loadWithAgents(t *testing.T) *Bundle {
	t.Helper()
	file := filepath.Join(t.TempDir(), "kefu.yaml")
	if err := os.WriteFile(file, append(DefaultYAML(), agentsYAML...), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFeatureCodes: an agent's phone dials *1, *2, *0 to change the
// agent's state and hears the confirmation; an unknown code is said to be
// invalid; any other number is refused (no toll fraud through kefu).
func TestFeatureCodes(t *testing.T) {
	b := loadWithAgents(t)
	desk := &fakeDesk{}
	b.Desk = desk
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for code, flow := range map[string]string{"*1": "feature.ready", "*2": "feature.paused", "*0": "feature.signedout", "*9": "feature.invalid", "%2A1": "feature.ready"} {
		adm, ref, err := b.Admit(t.Context(), Invite{From: "8001", To: code, Agent: "8001", At: at})
		if err != nil || ref != nil || adm.Flow.Name() != flow {
			t.Errorf("%s: flow %v, refusal %v, %v; want %s", code, adm.Flow, ref, err, flow)
		}
	}
	slices.Sort(desk.did)
	if want := []string{"pause 8001 break", "ready 8001", "ready 8001", "signout 8001"}; !slices.Equal(desk.did, want) {
		t.Errorf("desk did %q, want %q", desk.did, want)
	}
	_, ref, err := b.Admit(t.Context(), Invite{From: "8001", To: "013800138000", Agent: "8001", At: at})
	if err != nil || ref == nil || ref.Code != 403 || ref.By != RefusedByAgents {
		t.Errorf("an agent's outside call: refusal %+v, %v; want 403", ref, err)
	}
	// A feature code from anything but the agent's phone (a caller who
	// writes the agent's id in From) is refused, and changes nothing.
	before := len(desk.did)
	for _, code := range []string{"*2", "*0", "%2a1"} {
		_, ref, err = b.Admit(t.Context(), Invite{From: "8001", To: code, At: at})
		if err != nil || ref == nil || ref.Code != 403 || ref.By != RefusedByAgents {
			t.Errorf("%s not from the agent's phone: refusal %+v, %v; want 403", code, ref, err)
		}
	}
	if len(desk.did) != before {
		t.Errorf("the desk changed: %q", desk.did[before:])
	}
	// The same number from a trunk (not the agent's phone) is a caller.
	adm, ref, err := b.Admit(t.Context(), Invite{From: "8001", To: "hotline", At: at})
	if err != nil || ref != nil || adm.Flow.Name() != "hotline" {
		t.Errorf("a caller numbered like an agent: %v %v %v", adm.Flow, ref, err)
	}
}

// TestAgentsChecked: kefu check refuses bad agents with their line.
func TestAgentsChecked(t *testing.T) {
	bad := `
agents:
  - id: "80x3"
    queues: [nope, {name: customers, level: 3}]
  - id: "8001"
    password: a
    queues: [customers]
  - id: "8001"
    contact: sip:8003@pbx.example
    password: x
    queues: [customers]
  - id: "8004"
    contact: pbx.example
    queues: []
`
	base := strings.Replace(string(DefaultYAML()), "  - name: customers\n", "  - name: customers\n    strategy: random\n", 1)
	_, err := Parse("kefu.yaml", []byte(base+bad))
	if err == nil {
		t.Fatal("bad agents accepted")
	}
	for _, want := range []string{
		`kefu.yaml:`, `agent id "80x3": digits only`, `agent 80x3 has no password`, `no queue named "nope"`,
		`level 3 in customers`, `agent id "8001" is also agents[1]`, `a fixed contact does not register`,
		`contact "pbx.example" is not a SIP URI`, `agent 8004 takes no queue`, `strategy "random": use one of longest_idle`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
