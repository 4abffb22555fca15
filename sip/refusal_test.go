package sip

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/emiago/sipgo/sip"
)

// TestRefusalLogged: each refused INVITE leaves one "call refused" line
// with its Call-ID, the status and the cause in words: the formats
// offered when no codec is common, the port pool when it is full, the
// drain.
func TestRefusalLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("0s", "60s", "1h"))
		var buf bytes.Buffer
		u.a.log = slog.New(slog.NewJSONHandler(&buf, nil))
		refused := func(inv *sip.Request) map[string]any {
			t.Helper()
			buf.Reset()
			tx := newRecTx(inv)
			u.a.onInvite(inv, tx)
			var line map[string]any
			for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "call refused" {
					if line != nil {
						t.Errorf("two refusal lines: %s", buf.String())
					}
					line = m
				}
			}
			if line == nil {
				t.Fatalf("no refusal line in %s", buf.String())
			}
			if line["call"] != inv.CallID().Value() || line["from"] != "138******78" || line["src"] != "127.0.0.1:5070" {
				t.Errorf("refusal line %v", line)
			}
			return line
		}

		g729 := invite(t, "UDP")
		body := strings.Replace(string(g729.Body()), "RTP/AVP 0 8 101", "RTP/AVP 18 101", 1)
		g729.SetBody([]byte(body))
		g729.ReplaceHeader(sip.NewHeader("Content-Length", strconv.Itoa(len(body))))
		if l := refused(g729); l["code"] != 488.0 || !strings.Contains(l["cause"].(string), `offered formats "18 101"`) {
			t.Errorf("no common codec: %v", l)
		}
		u.ports.full = true
		if l := refused(invite(t, "UDP")); l["code"] != 503.0 || l["cause"] != "no media port free: no RTP port free" {
			t.Errorf("port pool full: %v", l)
		}
		u.ports.full = false
		u.a.Drain()
		if l := refused(invite(t, "UDP")); l["code"] != 503.0 || !strings.HasPrefix(l["cause"].(string), "draining") {
			t.Errorf("draining: %v", l)
		}
	})
}
