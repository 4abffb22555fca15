package flows

import (
	"strings"
	"testing"
	"time"
)

const menuFlow = `
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: choose
        menu:
          prompt: close.ask
          choices:
            "1": one
            "2": two
          on_timeout: none
      - name: fallback
        say: {prompt: repeat}
        next: end
      - name: one
        say: {prompt: ack}
        next: end
      - name: two
        say: {prompt: hold.resume}
        next: end
      - name: none
        say: {prompt: silent.apology}
        next: end
      - name: end
        close: {}
        exception: a test flow, where a reply to the closing question ends the call
`

func TestMenu(t *testing.T) {
	_, cat := loadDefault(t)
	cfg, err := Parse("m.yaml", []byte(menuFlow))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckPrompts("m.yaml", []byte(menuFlow), cat); err != nil {
		t.Fatal(err)
	}
	f, _ := cfg.Flow("f")
	ask, _ := cat.Get("close.ask")
	inv, _ := cat.Get("menu.invalid")
	after := ask.Duration()
	for _, tc := range []struct {
		name, caller string
		want         []string
	}{
		{"key during the prompt", "keys@1s:2", []string{"close.ask", "hold.resume"}},
		{"key in the wait", "keys@" + (after + time.Second).String() + ":1", []string{"close.ask", "ack"}},
		{"wrong key, then a right one", "keys@" + (after + time.Second).String() + ":9,keys@" + (2*after + inv.Duration() + 2*time.Second).String() + ":1", []string{"close.ask", "menu.invalid", "close.ask", "ack"}},
		{"no key three times", "silent", []string{"close.ask", "close.ask", "close.ask", "silent.apology"}},
		{"wrong keys three times", "keys@" + (after + time.Second).String() + ":9,keys@" + (2*after + inv.Duration() + 2*time.Second).String() + ":9,keys@" + (3*after + 2*inv.Duration() + 4*time.Second).String() + ":9", []string{"close.ask", "menu.invalid", "close.ask", "menu.invalid", "close.ask", "repeat"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script, err := ParseCaller(tc.caller)
			if err != nil {
				t.Fatal(err)
			}
			s := NewSimulation(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), script)
			if _, err := s.Run(t.Context(), cfg, f, cat); err != nil {
				t.Fatal(err)
			}
			ids, _ := sayings(s)
			if got := strings.Join(ids[:len(tc.want)], " "); got != strings.Join(tc.want, " ") {
				t.Errorf("said %v, want %v first", ids, tc.want)
			}
		})
	}
	bad := strings.Replace(menuFlow, `"2": two`, `"*": two`, 1)
	if _, err := Parse("m.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "louder key") {
		t.Errorf("menu on the louder key: %v", err)
	}
}
