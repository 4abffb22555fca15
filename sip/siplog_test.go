package sip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSafeHandler logs what sipgo logs on a malformed TCP message through
// the handler: one JSON object, keys once each, no number, bounded.
func TestSafeHandler(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(newSafeHandler(slog.NewJSONHandler(&out, nil), false))
	raw := "INVITE sip:hotline@127.0.0.1 SIP/2.0\r\nFrom: <sip:13812345678@127.0.0.1>;tag=a\r\n" + strings.Repeat("X-Pad: y\r\n", 3000) + "\r\n"
	log.With("caller", "TransportLayer").With("caller", "Transport<TCP>").
		Error("failed to parse", "error", errors.New("parsing From <sip:13812345678@x>"), "data", raw, "msg", "a key JSON writes itself",
			"callee", "+8613812345678", "port", "5060", "addr", "127.0.0.1:48676", "n", 3)
	line := strings.TrimSpace(out.String())
	if strings.Count(line, "\n") > 0 {
		t.Fatalf("more than one line:\n%s", line)
	}
	if len(line) > 1024 {
		t.Errorf("line of %d bytes", len(line))
	}
	if strings.Contains(line, "13812345678") {
		t.Errorf("a number in the log: %s", line)
	}
	keys := jsonKeys(t, line)
	seen := map[string]int{}
	for _, k := range keys {
		if seen[k]++; seen[k] > 1 {
			t.Errorf("key %q twice: %s", k, line)
		}
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"caller": "Transport<TCP>", "data": "INVITE sip:hotline@127.0.0.1 SIP/2.0 [" + itoa(len(raw)) + " bytes]",
		"callee": "+86*********78", "port": "5060", "addr": "127.0.0.1:48676", "n": 3.0, "sip_msg": "a key JSON writes itself",
		"msg": "failed to parse",
	} {
		if m[k] != want {
			t.Errorf("%s: %v, want %v", k, m[k], want)
		}
	}

	out.Reset()
	slog.New(newSafeHandler(slog.NewJSONHandler(&out, nil), true)).Info("shown", "from", "13812345678")
	if !strings.Contains(out.String(), "13812345678") {
		t.Errorf("ShowNumbers masked: %s", out.String())
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// jsonKeys lists the top-level keys of a JSON object in order, repeats
// included (encoding/json keeps only the last).
func jsonKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", line)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestMaskNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"sip:13812345678@10.0.0.1:5060": "sip:138******78@10.0.0.1:5060",
		"tel:+8613812345678;x":          "tel:+86*********78;x",
		"port 48676, 12345":             "port 48676, 12345",
		"no digits":                     "no digits",
		"a 123456 b 7654321":            "a 123*56 b 765**21",
		"+":                             "+",
		"":                              "",
	} {
		if got := maskNumbers(in); got != want {
			t.Errorf("maskNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBound(t *testing.T) {
	if s, n := bound(strings.Repeat("语", 100), 10); s != "语语语…" || n != 12 { // 3 bytes a rune
		t.Errorf("bound: %q, %d", s, n)
	}
	if s, _ := bound("a\x00b\tc", 10); s != "a b c" {
		t.Errorf("control characters: %q", s)
	}
	if s, n := bound(strings.Repeat("<", 100), 30); s != "<<<<<…" || n != 33 { // \u003c
		t.Errorf("escapes: %q, %d", s, n)
	}
}

// TestSafeHandlerBound: a line of the most attributes, each a long string
// of the characters JSON escapes most, stays under 2 KB.
func TestSafeHandlerBound(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(newSafeHandler(slog.NewJSONHandler(&out, nil), false))
	var args []any
	for i := range 20 {
		args = append(args, fmt.Sprintf("%s%02d", strings.Repeat("k", 38), i), strings.Repeat("<\"", 500))
	}
	log.Error(strings.Repeat("&", 500), args...)
	if n := len(out.String()); n > 2048 || len(jsonKeys(t, out.String())) != 3+maxLogAttrs {
		t.Errorf("a line of %d bytes:\n%s", n, out.String())
	}
}
