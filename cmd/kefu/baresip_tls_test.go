package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// TestIntegrationBaresipTLS: baresip calls kefu over TLS (sip:…;
// transport=tls, kefu's self-signed certificate as its CA file) and hears
// the greeting; kefu's BYE goes back over the same TLS connection.
func TestIntegrationBaresipTLS(t *testing.T) {
	integration(t)
	t.Parallel()
	baresip := needTool(t, "baresip")
	dir := t.TempDir()
	certFile, keyFile := testCert(t, dir, "kefu")
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	a := startAgent(t, "-tls-listen", tlsAddr, "-tls-cert", certFile, "-tls-key", keyFile)
	out := baresipCall(t, baresip, dir, "sip:hotline@"+tlsAddr+";transport=tls", "", "sip_cafile "+certFile)
	checkGreeting(t, dir, out)
	if !a.waitLog(`"call answered"`, 5*time.Second) {
		t.Errorf("kefu did not log the answered call")
	}
}

// baresipCall has baresip (configured in dir, with accountParams on its
// account and extraConfig lines) call uri for 8 s and returns its output.
func baresipCall(t *testing.T, baresip, dir, uri, accountParams string, extraConfig ...string) string {
	t.Helper()
	silence := filepath.Join(dir, "silence.wav")
	writeSilenceWAV(t, silence, 20*time.Second)
	writeBaresipConfig(t, dir, freePort(t), silence, "sndfile", "srtp")
	f, err := os.OpenFile(filepath.Join(dir, "config"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(strings.Join(extraConfig, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "accounts"), "<sip:13900001111@127.0.0.1>;regint=0"+accountParams+"\n")
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, baresip, "-f", dir, "-e", "/dial "+uri, "-t", "8").CombinedOutput()
	if err != nil {
		t.Fatalf("baresip: %v\n%s", err, out)
	}
	return string(out)
}

// checkGreeting checks baresip's dump of what it heard: the greeting, at
// the prompts' level.
func checkGreeting(t *testing.T, dir, out string) {
	t.Helper()
	dumps, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
	if len(dumps) != 1 {
		t.Fatalf("baresip wrote no received-audio dump (%v)\n%s", dumps, out)
	}
	pcm := readAudio(t, dumps[0])
	if len(pcm) < 4*8000 {
		t.Fatalf("baresip received %.1f s of audio, want the greeting\n%s", float64(len(pcm))/8000, out)
	}
	if lvl := prompts.SpeechLevel(pcm[4000:28000]); lvl < -24 || lvl > -12 {
		t.Errorf("greeting heard by baresip at %.1f dBFS, want about -18 dBFS speech\n%s", lvl, out)
	}
}
