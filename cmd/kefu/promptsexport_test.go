package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
)

// TestPromptsExport: without the source tree, ops make their own prompt
// set as the README says: kefu prompts export DIR writes the embedded set,
// they edit a text and replace a recording, point prompts_dir at DIR, and
// kefu check (and kefu run's loader) take the set from there. Exporting
// over a set already there is refused; a recording left twice is named.
func TestPromptsExport(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "prompts")
	var out, errb bytes.Buffer
	if code := cmdPrompts([]string{"export", dir}, &out, &errb); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errb.String())
	}
	set := filepath.Join(dir, "zh-CN")
	entries, err := os.ReadDir(set)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 50 || !strings.Contains(out.String(), "prompts_dir: "+dir+" ") {
		t.Fatalf("export wrote %d files: %s", len(entries), out.String())
	}
	errb.Reset()
	if code := cmdPrompts([]string{"export", dir}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "not empty") {
		t.Errorf("export over a set: exit %d: %s", code, errb.String())
	}

	// Ops' edit: a new text for ack, recorded by them as WAV.
	textFile := filepath.Join(set, "prompts.txt")
	b, err := os.ReadFile(textFile)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "ack\t") {
			l = "ack\t好的,请您按键选择。"
		}
		lines = append(lines, l)
	}
	writeFile(t, textFile, strings.Join(lines, "\n"))
	mp3 := filepath.Join(set, "ack.mp3")
	orig, err := os.ReadFile(mp3)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(mp3); err != nil {
		t.Fatal(err)
	}
	writeToneWAV(t, filepath.Join(set, "ack.wav"), -18)

	// prompts_dir relative to the configuration file, as in the README.
	conf := filepath.Join(base, "kefu.yaml")
	def := string(flows.DefaultYAML())
	if !strings.Contains(def, "\nlanguage: zh-CN") {
		t.Fatal("the default configuration has no language: zh-CN line to put prompts_dir after")
	}
	writeFile(t, conf, strings.Replace(def, "\nlanguage: zh-CN", "\nprompts_dir: prompts\nlanguage: zh-CN", 1))
	out.Reset()
	errb.Reset()
	if code := cmdCheck([]string{conf}, &out, &errb); code != 0 {
		t.Fatalf("kefu check with prompts_dir: exit %d\n%s%s", code, out.String(), errb.String())
	}
	snap, err := flows.Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := snap.Catalog.Get("ack")
	if !ok {
		t.Fatal("no ack in the loaded set")
	}
	if got := snap.Catalog.Render(p, nil); got != "好的,请您按键选择。" {
		t.Errorf("ack says %q, not the edited text", got)
	}
	if d := p.Duration(); d != time.Second {
		t.Errorf("ack is %s long, not the 1 s recording that replaced it", d)
	}
	out.Reset()
	if code := cmdPrompts([]string{"list", "-dir", dir}, &out, &errb); code != 0 || !strings.Contains(out.String(), "请您按键选择。\n") {
		t.Errorf("list -dir: exit %d\n%s", code, out.String())
	}

	// The old recording left beside the new one: two recordings for ack.
	writeFile(t, mp3, string(orig))
	out.Reset()
	errb.Reset()
	if code := cmdCheck([]string{conf}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "ack") {
		t.Errorf("kefu check with ack.mp3 and ack.wav: exit %d\n%s%s", code, out.String(), errb.String())
	}
}
