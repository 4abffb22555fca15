package records

import (
	"path"
	"strings"
	"testing"
	"time"
)

// TestRecordingPath: a recording's name says its class, start and call,
// safely, and reads back.
func TestRecordingPath(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 15, 123456789, time.FixedZone("CST", 8*3600))
	for _, tc := range []struct{ class, callID, want string }{
		{"general", "a84b4c76e66710@pc33.example.com", "recordings/2026-03-02/general-20260302T013015.123Z-a84b4c76e66710@pc33.example.com.wav"},
		{"message", "3848276298220188511", "recordings/2026-03-02/message-20260302T013015.123Z-3848276298220188511.wav"},
		{"Billing Dispute", "../../etc/passwd", "recordings/2026-03-02/billing_dispute-20260302T013015.123Z-.._.._etc_passwd~"},
		{"", "", "recordings/2026-03-02/complaint-20260302T013015.123Z-no-call-id.wav"},
		{"投诉", "呼叫 1", "recordings/2026-03-02/__-20260302T013015.123Z-___1~"},
		{"general", strings.Repeat("x", 300), "recordings/2026-03-02/general-20260302T013015.123Z-" + strings.Repeat("x", 64) + "~"},
	} {
		got := RecordingPath(tc.class, at, tc.callID)
		if !strings.HasPrefix(got, tc.want) || !strings.HasSuffix(got, ".wav") || strings.Count(got, "/") != 2 {
			t.Errorf("RecordingPath(%q, %q) = %q, want %q…", tc.class, tc.callID, got, tc.want)
			continue
		}
		class, when, id, ok := parseRecordingName(path.Base(got))
		if !ok || when != at.Truncate(time.Millisecond).UTC() || id != SafeName(tc.callID) || !strings.HasPrefix(path.Base(got), class+"-") {
			t.Errorf("%q reads back as %q, %v, %q, %v", got, class, when, id, ok)
		}
	}
	if a, b := SafeName("x/1"), SafeName("x:1"); a == b {
		t.Errorf("two call ids made the same name %q", a)
	}
	for _, name := range []string{"general.wav", "general-2026-x.wav", "x-20260302T013015.123Z-.wav", "GENERAL-20260302T013015.123Z-a.wav"} {
		if _, _, _, ok := parseRecordingName(name); ok {
			t.Errorf("%q read as a recording's name", name)
		}
	}
}
