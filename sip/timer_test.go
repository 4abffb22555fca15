package sip

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// msgWith is a request carrying the given header lines.
func msgWith(t *testing.T, hdrs ...string) *sip.Request {
	t.Helper()
	return parseReq(t, "OPTIONS sip:kefu@127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-t\r\n"+
		"From: <sip:a@127.0.0.1>;tag=a\r\nTo: <sip:kefu@127.0.0.1>\r\nCall-ID: t\r\nCSeq: 1 OPTIONS\r\n"+
		strings.Join(hdrs, "")+"Content-Length: 0\r\n\r\n")
}

// TestReadTimerHeaders: Session-Expires (long and compact), its refresher,
// Min-SE and the timer option tag in Supported or Require; bad values are
// errors.
func TestReadTimerHeaders(t *testing.T) {
	for _, tc := range []struct {
		hdrs []string
		want timerHeaders
		err  bool
	}{
		{hdrs: nil, want: timerHeaders{}},
		{hdrs: []string{"Supported: replaces, timer\r\n", "Session-Expires: 1800\r\n", "Min-SE: 90\r\n"},
			want: timerHeaders{interval: 1800 * time.Second, minSE: 90 * time.Second, supported: true}},
		{hdrs: []string{"Require: timer\r\n", "Session-Expires: 90;refresher=uac\r\n"},
			want: timerHeaders{interval: 90 * time.Second, refresher: "uac", supported: true}},
		{hdrs: []string{"k: timer\r\n", "x: 600 ; Refresher = UAS;foo=bar\r\n"},
			want: timerHeaders{interval: 600 * time.Second, refresher: "uas", supported: true}},
		{hdrs: []string{"Supported: 100rel\r\n", "Session-Expires: 4000000000\r\n"},
			want: timerHeaders{interval: maxSE}},
		{hdrs: []string{"Session-Expires: soon\r\n"}, err: true},
		{hdrs: []string{"Session-Expires: -5\r\n"}, err: true},
		{hdrs: []string{"Session-Expires: 90;refresher=both\r\n"}, err: true},
		{hdrs: []string{"Session-Expires: 90\r\n", "Min-SE: x\r\n"}, err: true},
	} {
		got, err := readTimerHeaders(msgWith(t, tc.hdrs...))
		if (err != nil) != tc.err || err == nil && got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v, error %v", tc.hdrs, got, err, tc.want, tc.err)
		}
	}
}

// TestSessionTimerUAS: the terms kefu answers a request with (RFC 4028 9).
func TestSessionTimerUAS(t *testing.T) {
	for _, tc := range []struct {
		name      string
		th        timerHeaders
		code      int
		interval  time.Duration
		refresher bool   // kefu refreshes
		hdrs      string // what kefu's 2xx adds
	}{
		{name: "no timer", th: timerHeaders{supported: true}},
		{name: "too small", th: timerHeaders{interval: 60 * time.Second, supported: true}, code: 422},
		{name: "peer refreshes", th: timerHeaders{interval: 90 * time.Second, refresher: "uac", supported: true},
			interval: 90 * time.Second, hdrs: "Session-Expires: 90;refresher=uac|Require: timer"},
		{name: "peer asks kefu", th: timerHeaders{interval: 1800 * time.Second, refresher: "uas", supported: true},
			interval: 1800 * time.Second, refresher: true, hdrs: "Session-Expires: 1800;refresher=uas|Require: timer"},
		{name: "kefu picks the peer", th: timerHeaders{interval: 1800 * time.Second, supported: true},
			interval: 1800 * time.Second, hdrs: "Session-Expires: 1800;refresher=uac|Require: timer"},
		{name: "peer without timer: kefu refreshes, no Require", th: timerHeaders{interval: 300 * time.Second},
			interval: 300 * time.Second, refresher: true, hdrs: "Session-Expires: 300;refresher=uas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st sessionTimer
			se := st.asUAS(tc.th)
			if tc.code != 0 {
				if se == nil || se.code != tc.code || len(se.hdrs) != 1 || se.hdrs[0].String() != "Min-SE: 90" {
					t.Fatalf("asUAS = %v, want %d with Min-SE: 90", se, tc.code)
				}
				return
			}
			if se != nil || st.interval != tc.interval || st.refresher != tc.refresher {
				t.Fatalf("asUAS = %v: interval %v, kefu refreshes %v; want %v, %v", se, st.interval, st.refresher, tc.interval, tc.refresher)
			}
			res := sip.NewResponseFromRequest(msgWith(t), 200, "OK", nil)
			st.addUAS(res)
			var got []string
			for _, name := range []string{"Session-Expires", "Require"} {
				if h := res.GetHeader(name); h != nil {
					got = append(got, h.String())
				}
			}
			if strings.Join(got, "|") != tc.hdrs {
				t.Errorf("2xx adds %q, want %q", strings.Join(got, "|"), tc.hdrs)
			}
		})
	}
}

// TestSessionTimerUAC: the 2xx and 422 to a refresh of kefu's.
func TestSessionTimerUAC(t *testing.T) {
	res := func(hdrs ...string) *sip.Response {
		r := sip.NewResponseFromRequest(msgWith(t), 200, "OK", nil)
		for _, h := range hdrs {
			name, value, _ := strings.Cut(strings.TrimSpace(h), ":")
			r.AppendHeader(sip.NewHeader(name, strings.TrimSpace(value)))
		}
		return r
	}
	st := sessionTimer{interval: 90 * time.Second, refresher: true, minSE: minSE}
	req := msgWith(t)
	st.addUAC(req)
	for name, want := range map[string]string{"Supported": "timer", "Session-Expires": "90;refresher=uac", "Min-SE": "90"} {
		if got := headerValue(req, name); got != want {
			t.Errorf("refresh %s: %q, want %q", name, got, want)
		}
	}
	if err := st.asUAC(res("Session-Expires: 120;refresher=uas\r\n")); err != nil || st.interval != 120*time.Second || st.refresher {
		t.Errorf("2xx refresher=uas: %v, interval %v, kefu refreshes %v", err, st.interval, st.refresher)
	}
	if err := st.asUAC(res("Session-Expires: 100\r\n")); err != nil || st.interval != 100*time.Second || !st.refresher {
		t.Errorf("2xx without refresher: %v, interval %v, kefu refreshes %v; want kefu (the UAC)", err, st.interval, st.refresher)
	}
	if err := st.asUAC(res()); err != nil || st.active() {
		t.Errorf("2xx without Session-Expires: %v, still active", err)
	}
	st = sessionTimer{interval: 90 * time.Second, refresher: true, minSE: minSE}
	if !st.tooSmall(res("Min-SE: 300\r\n")) || st.interval != 300*time.Second || st.minSE != 300*time.Second {
		t.Errorf("422 with Min-SE 300: interval %v, Min-SE %v", st.interval, st.minSE)
	}
	if st.tooSmall(res("Min-SE: 200\r\n")) || st.tooSmall(res()) {
		t.Error("a 422 naming nothing larger is retried")
	}
}

// TestSessionTimerSchedule: kefu refreshes at half the interval; the peer
// must have by the expiry minus min(32 s, interval/3); failed refreshes
// are tried again halfway to that moment.
func TestSessionTimerSchedule(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := sessionTimer{interval: 90 * time.Second}
	if m := st.margin(); m != 30*time.Second {
		t.Errorf("margin of 90 s: %v, want 30 s", m)
	}
	st.interval = 1800 * time.Second
	if m := st.margin(); m != 32*time.Second {
		t.Errorf("margin of 1800 s: %v, want 32 s", m)
	}
	st.refreshed(t0)
	defer st.stop()
	if st.expired(t0.Add(1767*time.Second)) || !st.expired(t0.Add(1768*time.Second)) {
		t.Error("the peer's session expires at 1800-32 s")
	}
	st.refresher = true
	st.failed(t0.Add(900 * time.Second)) // (1768-900)/2 = 434 s later
	if st.expired(t0.Add(1334 * time.Second)) {
		t.Error("expired before the last moment")
	}
}
