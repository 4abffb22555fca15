package flows

import (
	"strings"
	"testing"
	"time"
)

const branchFlow = `
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: screen
        branch:
          cases:
            - caller: "^400"
              goto: block
            - anonymous: true
              goto: block
            - holiday: any
              goto: festive
            - weekday: [sat, sun]
              goto: weekend
            - time: "22:00-08:30"
              goto: night
            - dates: 2026-12-24..2026-12-26
              called: "^sales$"
              goto: festive
          else: open
      - name: block
        reject:
          code: 486
          reason: nuisance-list
      - name: night
        reject:
          code: 480
          reason: closed
      - name: weekend
        goto: open
      - name: festive
        answer: {}
      - name: open
        say:
          prompt: greet.tod
        next: bye
      - name: bye
        close: {}
        exception: a test flow, where a reply to the closing question ends the call
`

func TestBranchBeforeAnswer(t *testing.T) {
	cfg, err := Parse("b.yaml", []byte(branchFlow))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := cfg.Flow("f")
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		info   CallInfo
		reject int
		step   string
	}{
		{"listed caller", CallInfo{Caller: "4001234567", At: at("2026-11-23T10:00:00+08:00")}, 486, ""},
		{"anonymous", CallInfo{Anonymous: true, At: at("2026-11-23T10:00:00+08:00")}, 486, ""},
		{"national day", CallInfo{Caller: "138", At: at("2026-10-03T10:00:00+08:00")}, 0, "open"},
		{"weekend", CallInfo{Caller: "138", At: at("2026-11-22T10:00:00+08:00")}, 0, "open"},
		{"night on a weekday, UTC instant", CallInfo{Caller: "138", At: at("2026-11-23T15:00:00Z")}, 480, ""},
		{"weekday morning", CallInfo{Caller: "138", At: at("2026-11-23T08:30:00+08:00")}, 0, "open"},
		{"christmas sales line", CallInfo{Caller: "138", Called: "sales", At: at("2026-12-24T10:00:00+08:00")}, 0, "open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := cfg.Start(f, tc.info)
			if err != nil {
				t.Fatal(err)
			}
			if st.Reject != tc.reject {
				t.Fatalf("reject %d (path %v), want %d", st.Reject, st.Path, tc.reject)
			}
			if tc.reject == 0 && f.Steps[st.Step].Name != tc.step {
				t.Errorf("starts at %s (path %v), want %s", f.Steps[st.Step].Name, st.Path, tc.step)
			}
		})
	}
}

func TestGraphErrors(t *testing.T) {
	head := "routes:\n  - to: \"*\"\n    flow: f\nflows:\n  f:\n    steps:\n"
	for _, tc := range []struct{ name, steps, want string }{
		{"unreachable", "      - name: a\n        hangup: {}\n      - name: b\n        hangup: {}\n", `b.yaml:9:9: step "b" can never run`},
		{"reject after answer", "      - name: a\n        say: {prompt: ack}\n      - name: b\n        reject: {code: 486}\n", `reject "b" can run after the call is answered`},
		{"spinning loop", "      - name: a\n        say: {prompt: ack}\n      - name: b\n        branch:\n          cases:\n            - caller: x\n              goto: c\n          else: c\n      - name: c\n        goto: b\n", `steps from "b" can loop forever`},
		{"bad reject code", "      - name: a\n        reject: {code: 200}\n", "reject code 200 is not a SIP error status"},
		{"bad case", "      - name: a\n        branch:\n          cases:\n            - time: 8-17\n              weekday: [funday]\n              goto: a\n      - name: b\n        hangup: {}\n", `time "8-17": write it like 08:30-17:00`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("b.yaml", []byte(head+tc.steps))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestSimulateReject: kefu simulate shows a rejected call and plays nothing.
func TestSimulateReject(t *testing.T) {
	cfg, err := Parse("b.yaml", []byte(branchFlow))
	if err != nil {
		t.Fatal(err)
	}
	_, cat := loadDefault(t)
	f, _ := cfg.Flow("f")
	start, _ := time.Parse(time.RFC3339, "2026-11-23T10:00:00+08:00")
	s := NewSimulation(start, nil)
	s.Info = CallInfo{Caller: "4009998888"}
	if _, err := s.Run(t.Context(), cfg, f, cat); err != nil {
		t.Fatal(err)
	}
	if s.Rejected != 486 || len(s.Trace) != 2 || s.Trace[1].What != "reject" {
		t.Errorf("rejected %d, trace %+v", s.Rejected, s.Trace)
	}
}

// TestRoutesByCaller: routes match the called user and the caller: a
// number in any of its forms, a prefix, withheld numbers; the first match
// wins; a bad caller pattern is refused at load.
func TestRoutesByCaller(t *testing.T) {
	src := `
routes:
  - to: hotline
    from: "+8613900000001"
    flow: vip
  - from: "0400*"
    flow: vip
  - from: anonymous
    flow: anon
  - to: "*"
    flow: main
flows:
  vip: {steps: [{name: a, say: {prompt: close.bye}}, {name: b, hangup: {}}]}
  anon: {steps: [{name: a, say: {prompt: close.bye}}, {name: b, hangup: {}}]}
  main: {steps: [{name: a, say: {prompt: close.bye}}, {name: b, hangup: {}}]}
`
	cfg, err := Parse("r.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ to, from, want string }{
		{"hotline", "13900000001", "vip"},
		{"other", "13900000001", "main"}, // the first route is for hotline only
		{"other", "04001234567", "vip"},
		{"other", "anonymous", "anon"},
		{"other", "", "anon"},
		{"hotline", "13800000000", "main"},
	} {
		f, ok := cfg.Route(c.to, c.from)
		if !ok || f.Name() != c.want {
			t.Errorf("Route(%q, %q) = %v, want %s", c.to, c.from, f, c.want)
		}
	}
	bad := strings.Replace(src, `from: "0400*"`, `from: "^04.*"`, 1)
	if _, err := Parse("r.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "r.yaml:6:") || !strings.Contains(err.Error(), "a prefix (400*)") {
		t.Errorf("bad from: %v", err)
	}
}
