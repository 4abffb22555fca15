package softphone

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
)

func TestParseFlags(t *testing.T) {
	cfg, opts, err := parseFlags([]string{
		"-codec", "pcma", "sip:4008@127.0.0.1:5060", "-for", "30s", "-play", "/x/hello.wav",
		"-play-at", "2s", "-from", "sip:13800138000@10.0.0.1", "-transport", "tcp", "-threshold", "-40",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Target: "sip:4008@127.0.0.1:5060", From: "sip:13800138000@10.0.0.1", Listen: DefaultListen,
		Transport: "tcp", Codec: media.CodecPCMA, Playback: Playback{Send: SendClip, ClipName: "hello.wav", PlayAt: 2 * time.Second},
		For: 30 * time.Second, Max: DefaultMax, AnswerTimeout: DefaultAnswerTimeout,
		Detector: DetectorConfig{ThresholdDB: -40},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config\n got %+v\nwant %+v", cfg, want)
	}
	if opts.play != "/x/hello.wav" {
		t.Errorf("play = %q", opts.play)
	}
	cfg, _, err = parseFlags([]string{"-play", "none", "sip:1@h"}, io.Discard)
	if err != nil || cfg.Send != SendNone || cfg.Codec != media.CodecPCMU {
		t.Errorf("-play none: %+v, %v", cfg, err)
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"sip:a@h", "sip:b@h"},
		{"-codec", "g729", "sip:a@h"},
		{"-play-at", "1s", "sip:a@h"},
		{"-nosuchflag", "sip:a@h"},
	} {
		if _, _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// TestMainUsage checks the failures that happen before any packet is sent.
func TestMainUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.wav")
	if err := os.WriteFile(bad, []byte("not a wav"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-play", filepath.Join(dir, "missing.wav"), "sip:a@127.0.0.1"}, "missing.wav"},
		{[]string{"-play", bad, "sip:a@127.0.0.1"}, "bad.wav"},
		{[]string{"-record", filepath.Join(dir, "no", "such", "dir.wav"), "sip:a@127.0.0.1"}, "dir.wav"},
		{[]string{"-max", "-1s", "sip:a@127.0.0.1"}, "negative"},
		{[]string{"-listen", "localhost:0", "sip:a@127.0.0.1"}, "IP address"},
		{[]string{"-from", "nonsense", "sip:a@127.0.0.1"}, "from"},
	} {
		var out, errb bytes.Buffer
		code := Main(context.Background(), tc.args, &out, &errb)
		if code != ExitUsage || !strings.Contains(errb.String(), tc.want) || out.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d and %q", tc.args, code, out.String(), errb.String(), ExitUsage, tc.want)
		}
	}
}

func TestMainHelp(t *testing.T) {
	var errb bytes.Buffer
	if code := Main(context.Background(), []string{"-h"}, io.Discard, &errb); code != ExitOK {
		t.Errorf("-h: exit %d", code)
	}
	if !strings.Contains(errb.String(), "usage: kefu dial") || !strings.Contains(errb.String(), "-play-at") {
		t.Errorf("-h printed %q", errb.String())
	}
}

func TestParseAgentFlags(t *testing.T) {
	cfg, opts, err := parseAgentFlags([]string{
		"-id", "8001", "-password", "s", "sip:127.0.0.1:5060", "-answer-after", "2s", "-hangup-after", "30s",
		"-reject", "486", "-calls", "3", "-for", "10m", "-keys", "1@2s", "-play", "/x/hi.mp3", "-record", "/tmp",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ID != "8001" || cfg.Password != "s" || cfg.Registrar != "sip:127.0.0.1:5060" || cfg.AnswerAfter != 2*time.Second ||
		cfg.HangupAfter != 30*time.Second || cfg.Reject != 486 || cfg.Calls != 3 || cfg.For != 10*time.Minute ||
		cfg.RecordDir != "/tmp" || cfg.Send != SendClip || cfg.ClipName != "hi.mp3" || len(cfg.Keys) != 1 ||
		cfg.Expires != DefaultExpires || cfg.QueueHeader != DefaultQueueHeader || opts.play != "/x/hi.mp3" {
		t.Errorf("config %+v", cfg)
	}
	for _, args := range [][]string{
		{"sip:h"},                               // no -id
		{"-id", "1", "sip:a", "sip:b"},          // two URIs
		{"-id", "1", "-play-at", "1s", "sip:h"}, // -play-at without a file
	} {
		if _, _, err := parseAgentFlags(args, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestAgentMainUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-id", "1", "-reject", "200", "sip:127.0.0.1"}, "reject"},
		{[]string{"-id", "1", "-reject", "486", "-no-answer", "sip:127.0.0.1"}, "exclude"},
		{[]string{"-id", "1", "-record", filepath.Join(dir, "missing"), "sip:127.0.0.1"}, "directory"},
		{[]string{"-id", "1", "-play", filepath.Join(dir, "missing.wav"), "sip:127.0.0.1"}, "missing.wav"},
		{[]string{"-id", "1", "-expires", "500ms", "sip:127.0.0.1"}, "expires"},
	} {
		var out, errb bytes.Buffer
		code := AgentMain(context.Background(), tc.args, &out, &errb)
		if code != ExitUsage || !strings.Contains(errb.String(), tc.want) || out.Len() != 0 {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), ExitUsage, tc.want)
		}
	}
	var errb bytes.Buffer
	if code := AgentMain(context.Background(), []string{"-h"}, io.Discard, &errb); code != ExitOK ||
		!strings.Contains(errb.String(), "usage: kefu agent") || !strings.Contains(errb.String(), "once, then silence") {
		t.Errorf("-h: exit %d, %q", code, errb.String())
	}
}
