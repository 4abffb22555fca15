package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
)

// TestHealth: kefu health exits 0 for a 200 from /healthz (or /readyz with
// -ready), 1 for anything else or nobody there, 2 for a bad address; it
// asks an unspecified address on loopback and reads KEFU_HTTP.
func TestHealth(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz":
			_, _ = w.Write([]byte(`{"status":"ok","calls":0}`))
		case r.URL.Path == "/readyz" && ready.Load():
			_, _ = w.Write([]byte(`{"ready":true}`))
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"ready":false}`))
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	health := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := cmdHealth(context.Background(), args, &out, &errb)
		return code, out.String() + errb.String()
	}
	for _, tc := range []struct {
		args []string
		want int
		says string
	}{
		{[]string{"-http", srv.Listener.Addr().String()}, 0, `"status":"ok"`},
		{[]string{"-http", "0.0.0.0:" + port}, 0, "http://127.0.0.1:" + port + "/healthz"},
		{[]string{"-http", ":" + port}, 0, "127.0.0.1:" + port},
		{[]string{"-http", srv.Listener.Addr().String(), "-ready"}, 1, "503"},
		{[]string{"-http", closed.Listener.Addr().String()}, 1, "connection refused"},
		{[]string{"-http", "8080"}, 2, "want HOST:PORT"},
		{[]string{"extra"}, 2, "usage"},
	} {
		code, out := health(tc.args...)
		if code != tc.want || !strings.Contains(out, tc.says) {
			t.Errorf("kefu health %v: exit %d, want %d saying %q: %s", tc.args, code, tc.want, tc.says, out)
		}
	}
	ready.Store(true)
	if code, out := health("-http", srv.Listener.Addr().String(), "-ready"); code != 0 {
		t.Errorf("-ready when ready: exit %d: %s", code, out)
	}
	t.Setenv("KEFU_HTTP", "0.0.0.0:"+port)
	if code, out := health(); code != 0 {
		t.Errorf("with KEFU_HTTP: exit %d: %s", code, out)
	}
	if got, _ := healthTarget("[::]:8080"); got != "[::1]:8080" {
		t.Errorf("[::]:8080 is asked at %s", got)
	}
}

// TestBuildInfo: kefu version reports what the linker was given, else
// what the Go toolchain stamped.
func TestBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "3f2a9c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"},
		{Key: "vcs.time", Value: "2026-03-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
		{Key: "CGO_ENABLED", Value: "0"},
	}}
	got := makeBuildInfo(bi, "", "", "").String()
	if !strings.HasPrefix(got, "kefu v1.4.0 (3f2a9c1d5e6f+modified, 2026-03-01T10:00:00Z) go1.26.0 ") || strings.HasSuffix(got, "cgo") {
		t.Errorf("from the toolchain: %q", got)
	}
	b := makeBuildInfo(bi, "v1.5.0-rc1", "abcdef", "2026-04-01T00:00:00Z")
	if b.Version != "v1.5.0-rc1" || b.Revision != "abcdef" || b.Time != "2026-04-01T00:00:00Z" {
		t.Errorf("from the linker: %+v", b)
	}
	if got := makeBuildInfo(nil, "", "", "").String(); !strings.HasPrefix(got, "kefu (devel) go1.") {
		t.Errorf("with no build info: %q", got)
	}
	var out bytes.Buffer
	if code := cmdVersion(nil, &out, &out); code != 0 || !strings.HasPrefix(out.String(), "kefu ") {
		t.Errorf("kefu version: exit %d: %s", code, out.String())
	}
}
