package flows

import (
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media/amd"
)

// TestOutboundConfig: callbacks.queue names where callbacks left outside
// any queue wait; answering_machine fills its defaults, off turns it off;
// nonsense in either is refused at its line.
func TestOutboundConfig(t *testing.T) {
	c, err := Parse("test.yaml", []byte(`
queues:
  - name: customers
  - name: vip
callbacks: {queue: vip}
answering_machine: {silence: 4s, long_greeting: 3s}
`+trunkBase))
	if err != nil {
		t.Fatal(err)
	}
	if q, keys, wait := c.FollowUpHandOff(); q != "" || keys != "" || wait != 0 {
		t.Errorf("follow-ups handed off without followups: %q %q %v", q, keys, wait)
	}
	if q := c.CallbackQueue(""); q != "vip" {
		t.Errorf("callbacks outside any queue wait in %q, want vip", q)
	}
	o, on := c.AMD()
	want := amd.DefaultOptions()
	want.Silence, want.LongGreeting = 4*time.Second, 3*time.Second
	if !on || o != want {
		t.Errorf("AMD %+v %v, want %+v", o, on, want)
	}
	c, _ = Parse("test.yaml", []byte("queues: [{name: customers}]\nfollowups: {queue: customers}\n"+trunkBase))
	if q, keys, wait := c.FollowUpHandOff(); q != "customers" || keys != "3" || wait != DefaultFollowUpMaxWait {
		t.Errorf("followups: {queue: customers}: %q %q %v", q, keys, wait)
	}
	c, _ = Parse("test.yaml", []byte("queues: [{name: customers}]\nanswering_machine: {off: true}\n"+trunkBase))
	if _, on := c.AMD(); on {
		t.Error("answering_machine: {off: true} left it on")
	}
	c, _ = Parse("test.yaml", []byte("queues: [{name: customers}]\n"+trunkBase))
	if o, on := c.AMD(); !on || o != amd.DefaultOptions() {
		t.Errorf("the default: %+v %v", o, on)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"callbacks: {queue: nowhere}", `test.yaml:2:20: callbacks: no queue named "nowhere" (queues: customers)`},
		{"answering_machine: {greeting: 3s}", "long greeting 2.5s: at least the greeting's 3s"},
		{"answering_machine: {beep: 5ms}", "beep 5ms: between 100ms and 2s"},
		{"followups: {queue: nowhere}", `followups: no queue named "nowhere"`},
		{"followups: {agent_keys: \"3\"}", "agent_keys and max_wait need a queue"},
		{"followups: {queue: customers, agent_keys: \"9x\"}", `agent_keys "9x": keys 0-9, * and #`},
		{"followups: {queue: customers, max_wait: 1h}", "max_wait 1h0m0s: between 10s and 30m"},
	} {
		_, err := Parse("test.yaml", []byte("queues: [{name: customers}]\n"+tc.yaml+"\n"+trunkBase))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
