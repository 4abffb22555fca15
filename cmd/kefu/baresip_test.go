package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/prompts"
)

// TestIntegrationBaresip: a real softphone, baresip from Debian, calls kefu
// and hears the greeting. baresip's sndfile module dumps the decoded audio
// it received to a WAV file, which must hold speech at the prompts' level.
func TestIntegrationBaresip(t *testing.T) {
	integration(t)
	t.Parallel()
	baresip := needTool(t, "baresip")
	a := startAgent(t)
	dir := t.TempDir()
	silence := filepath.Join(dir, "silence.wav")
	writeSilenceWAV(t, silence, 20*time.Second)
	port := freePort(t)
	writeBaresipConfig(t, dir, port, silence, "sndfile")
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte("<sip:13900001111@127.0.0.1>;regint=0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, baresip, "-f", dir, "-e", "/dial sip:hotline@"+a.sip, "-t", "8").CombinedOutput()
	if err != nil {
		t.Fatalf("baresip: %v\n%s", err, out)
	}
	dumps, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
	if len(dumps) != 1 {
		t.Fatalf("baresip wrote no received-audio dump (%v)\n%s", dumps, out)
	}
	pcm := readAudio(t, dumps[0])
	// The opening starts about 0.1 s into the answered call and lasts
	// about 5 s: measure 0.5–3.5 s.
	if len(pcm) < 4*8000 {
		t.Fatalf("baresip received %.1f s of audio, want the greeting\n%s", float64(len(pcm))/8000, out)
	}
	if lvl := prompts.SpeechLevel(pcm[4000:28000]); lvl < -24 || lvl > -12 {
		t.Errorf("greeting heard by baresip at %.1f dBFS, want about -18 dBFS speech", lvl)
	}
	if !a.waitLog(`"call answered"`, 5*time.Second) {
		t.Errorf("kefu did not log the answered call")
	}
}

// writeSilenceWAV writes d of 8 kHz 16-bit mono digital silence.
func writeSilenceWAV(t *testing.T, path string, d time.Duration) {
	t.Helper()
	writeWAVFile(t, path, audio.Format{Rate: 8000, Channels: 1}, make([]int16, int(d.Seconds()*8000)))
}

// writeBaresipConfig writes dir/config for a baresip listening on port
// that sends source (a WAV file) and loads the extra modules too (sndfile
// dumps what it receives into dir, stdio reads commands from stdin).
func writeBaresipConfig(t *testing.T, dir string, port int, source string, extra ...string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "poll_method epoll\nsip_listen 127.0.0.1:%d\naudio_player aufile,%s/heard.wav\naudio_source aufile,%s\naudio_alert aufile,%[2]s/alert.wav\nmodule_path /usr/lib/baresip/modules\n", port, dir, source)
	// account reads the accounts when it loads: the modules an account
	// names (srtp for mediaenc=) must be there before it.
	for _, m := range append(append([]string{"g711", "aufile", "menu"}, extra...), "account") {
		fmt.Fprintf(&b, "module %s.so\n", m)
	}
	if slices.Contains(extra, "sndfile") {
		fmt.Fprintf(&b, "snd_path %s\n", dir)
	}
	writeFile(t, filepath.Join(dir, "config"), b.String())
}
