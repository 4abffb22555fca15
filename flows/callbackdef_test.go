package flows

import (
	"strings"
	"testing"
	"time"
)

const trunkBase = `
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: a
        close: {}
        exception: a test flow
`

// TestTrunksConfig: a trunk with everything set loads, defaults fill in,
// and queues' callback rules find their trunk.
func TestTrunksConfig(t *testing.T) {
	c, err := Parse("test.yaml", []byte(`
trunks:
  - name: carrier
    uri: sip:trunk.example.com:5070
    transport: tcp
    username: "02112345678"
    password: secret
    register: true
    expires: 10m
    caller_id: "+864001234567"
    prefix: "0"
    max_calls: 4
    ring_timeout: 20s
  - name: backup
    uri: sip:[2001:db8::1]
    caller_id: "4001234567"
queues:
  - name: customers
    callback: {trunk: backup, attempts: 5, retry: 2m}
  - name: other
  - name: quiet
    callback: {off: true}
`+trunkBase))
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := c.Trunk("carrier")
	if !ok || tr.TransportOr() != "TCP" || tr.ExpiresOr() != 10*time.Minute || tr.Calls() != 4 || tr.Ring() != 20*time.Second {
		t.Errorf("carrier: %+v", tr)
	}
	b, _ := c.Trunk("backup")
	if b.TransportOr() != "UDP" || b.Calls() != DefaultTrunkMaxCalls || b.Ring() != DefaultTrunkRingTimeout {
		t.Errorf("backup's defaults: %+v", b)
	}
	if r, on := c.CallbackRulesFor("customers"); !on || r.Trunk != "backup" || r.Attempts != 5 || r.Retry.D() != 2*time.Minute {
		t.Errorf("customers' callbacks: %+v %v", r, on)
	}
	if r, on := c.CallbackRulesFor("other"); !on || r.Trunk != "carrier" || r.Attempts != 3 || r.Retry.D() != 10*time.Minute {
		t.Errorf("other's callbacks (defaults): %+v %v", r, on)
	}
	if _, on := c.CallbackRulesFor("quiet"); on {
		t.Error("a queue with callbacks off still dials them")
	}
	none, err := Parse("test.yaml", []byte(trunkBase))
	if err != nil {
		t.Fatal(err)
	}
	if _, on := none.CallbackRulesFor("customers"); on {
		t.Error("callbacks are dialled without a trunk")
	}
}

// TestTrunksConfigErrors: kefu check names each mistake at its line.
func TestTrunksConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       string
	}{
		{"no name", "trunks:\n  - uri: sip:t.example\n    caller_id: \"4001\"\n", `test.yaml:2:5: trunk without a name`},
		{"bad name", "trunks:\n  - name: Big Trunk\n    uri: sip:t.example\n    caller_id: \"4001\"\n", `test.yaml:2:11: trunk name "Big Trunk"`},
		{"twice", "trunks:\n  - {name: a, uri: sip:t.example, caller_id: \"4001\"}\n  - {name: a, uri: sip:t.example, caller_id: \"4001\"}\n", `test.yaml:3:12: trunk "a" is also trunks[0]`},
		{"user in uri", "trunks:\n  - name: a\n    uri: sip:kefu@t.example\n    caller_id: \"4001\"\n", `test.yaml:3:10: trunk a: uri "sip:kefu@t.example": no user part`},
		{"not sip", "trunks:\n  - name: a\n    uri: http://t.example\n    caller_id: \"4001\"\n", `test.yaml:3:10: trunk a: uri "http://t.example": want sip:HOST[:PORT]`},
		{"params", "trunks:\n  - name: a\n    uri: sip:t.example;transport=tcp\n    caller_id: \"4001\"\n", `give the transport as transport: tcp`},
		{"bad port", "trunks:\n  - name: a\n    uri: sip:t.example:99999\n    caller_id: \"4001\"\n", `port "99999"`},
		{"transport", "trunks:\n  - name: a\n    uri: sip:t.example\n    transport: sctp\n    caller_id: \"4001\"\n", `test.yaml:4:16: trunk a: transport "sctp": use udp, tcp or tls`},
		{"ca_file without tls", "trunks:\n  - name: a\n    uri: sip:t.example\n    ca_file: ca.pem\n    caller_id: \"4001\"\n", `test.yaml:4:14: trunk a: ca_file without transport: tls`},
		{"ca_file missing", "trunks:\n  - name: a\n    uri: sip:t.example\n    transport: tls\n    ca_file: /nonexistent/ca.pem\n    caller_id: \"4001\"\n", `test.yaml:5:14: trunk a: ca_file: open /nonexistent/ca.pem`},
		{"ca_file not PEM", "trunks:\n  - name: a\n    uri: sip:t.example\n    transport: tls\n    ca_file: callbackdef.go\n    caller_id: \"4001\"\n", `test.yaml:5:14: trunk a: ca_file callbackdef.go holds no PEM certificate`},
		{"pin", "trunks:\n  - name: a\n    uri: sip:t.example\n    transport: tls\n    pin: AB:CD\n    caller_id: \"4001\"\n", `test.yaml:5:10: trunk a: pin "AB:CD": the certificate's SHA-256 fingerprint`},
		{"pin without tls", "trunks:\n  - name: a\n    uri: sip:t.example\n    pin: AB:CD\n    caller_id: \"4001\"\n", `test.yaml:4:10: trunk a: pin without transport: tls`},
		{"srtp", "trunks:\n  - name: a\n    uri: sip:t.example\n    srtp: yes\n    caller_id: \"4001\"\n", `test.yaml:4:11: trunk a: srtp "yes": use required, optional or off`},
		{"user only", "trunks:\n  - name: a\n    uri: sip:t.example\n    username: u\n    caller_id: \"4001\"\n", `test.yaml:4:15: trunk a: a username without a password`},
		{"caller id", "trunks:\n  - name: a\n    uri: sip:t.example\n    caller_id: hotline\n", `test.yaml:4:16: trunk a: caller_id "hotline"`},
		{"no caller id", "trunks:\n  - name: a\n    uri: sip:t.example\n", `trunk a: caller_id ""`},
		{"expires alone", "trunks:\n  - name: a\n    uri: sip:t.example\n    caller_id: \"4001\"\n    expires: 1h\n", `test.yaml:5:14: trunk a: expires without register`},
		{"short expires", "trunks:\n  - name: a\n    uri: sip:t.example\n    caller_id: \"4001\"\n    register: true\n    expires: 10s\n", `trunk a: expires 10s: between 1m0s and 24h0m0s`},
		{"max calls", "trunks:\n  - name: a\n    uri: sip:t.example\n    caller_id: \"4001\"\n    max_calls: -1\n", `test.yaml:5:16: trunk a: max_calls -1`},
		{"ring", "trunks:\n  - name: a\n    uri: sip:t.example\n    caller_id: \"4001\"\n    ring_timeout: 1s\n", `trunk a: ring_timeout 1s`},
		{"prefix", "trunks:\n  - name: a\n    uri: sip:t.example\n    caller_id: \"4001\"\n    prefix: \"+\"\n", `trunk a: prefix "+"`},
		{"unknown trunk", "trunks:\n  - {name: a, uri: sip:t.example, caller_id: \"4001\"}\nqueues:\n  - name: q\n    callback: {trunk: b}\n", `test.yaml:5:23: queue q: no trunk named "b" (trunks: a)`},
		{"no trunks", "queues:\n  - name: q\n    callback: {attempts: 2}\n", `test.yaml:3:16: queue q: callback rules, but no trunks`},
		{"attempts", "trunks:\n  - {name: a, uri: sip:t.example, caller_id: \"4001\"}\nqueues:\n  - name: q\n    callback: {attempts: 11}\n", `queue q: attempts 11: between 1 and 10`},
		{"retry", "trunks:\n  - {name: a, uri: sip:t.example, caller_id: \"4001\"}\nqueues:\n  - name: q\n    callback: {retry: 1s}\n", `queue q: retry 1s`},
		{"unknown key", "trunks:\n  - name: a\n    uri: sip:t.example\n    caller_id: \"4001\"\n    pasword: x\n", `unknown key "pasword": did you mean "password"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.yaml+trunkBase))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestTrunkPromptsChecked: a configuration with a trunk needs the
// callbacks' prompts in its set.
func TestTrunkPromptsChecked(t *testing.T) {
	_, cat := loadDefault(t)
	yaml := "trunks:\n  - {name: a, uri: sip:t.example, caller_id: \"4001\"}\n" + trunkBase
	c, err := Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckPrompts("test.yaml", []byte(yaml), cat); err != nil {
		t.Errorf("the default set: %v", err)
	}
}

// TestServiceDown: the hotline is down while its catch-all route leads
// to a system-down flow; a route for one number or one called user does
// not make it so. Callbacks left outside any queue wait in the first
// queue that does not yield.
func TestServiceDown(t *testing.T) {
	base := `
queues:
  - {name: nuisance, yields: true}
  - {name: customers}
flows:
  down:
    steps: [{name: a, close: {}, exception: test}]
  main:
    steps: [{name: a, close: {}, exception: test}]
`
	for _, tc := range []struct {
		routes string
		down   bool
	}{
		{"routes: [{to: \"*\", flow: down}]", true},
		{"routes: [{flow: down}]", true},
		{"routes: [{to: down, flow: down}, {to: \"*\", flow: main}]", false},
		{"routes: [{from: \"13800000000\", flow: down}, {to: \"*\", flow: main}]", false},
		{"routes: [{to: \"*\", flow: main}]", false},
	} {
		c, err := Parse("test.yaml", []byte(tc.routes+base))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.ServiceDown(); got != tc.down {
			t.Errorf("%s: down %v, want %v", tc.routes, got, tc.down)
		}
		if q := c.CallbackQueue(""); q != "customers" {
			t.Errorf("callbacks outside any queue wait in %q", q)
		}
		if q := c.CallbackQueue("nuisance"); q != "nuisance" {
			t.Errorf("a queue's callbacks wait in %q", q)
		}
	}
}
