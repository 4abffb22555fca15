package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/store"
)

var update = flag.Bool("update", false, "rewrite testdata/simulate/*.txt from the current output")

// TestSimulateGolden replays every scenario in testdata/simulate through
// `kefu simulate` on the embedded default configuration and compares the
// timeline with the stored one. Each file holds one call-script rule of
// the spec (named in its first line) as the default hotline plays it: the
// first line is the command's arguments, the rest its output. After a
// deliberate change, review the new timelines and run
//
//	go test ./cmd/kefu -run TestSimulateGolden -update
func TestSimulateGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "simulate", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden timelines: %v", err)
	}
	version := regexp.MustCompile(`\(config [0-9a-f]{12}\)`)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			head, want, _ := strings.Cut(string(data), "\n")
			args, ok := strings.CutPrefix(head, "# kefu simulate ")
			if !ok {
				t.Fatalf("%s: first line must be \"# kefu simulate ARGS\" (then the rule's ID after \"#\")", file)
			}
			args, _, _ = strings.Cut(args, " #")
			fields := strings.Fields(args)
			for i, f := range fields {
				if number, ok := strings.CutPrefix(f, "@open-callback:"); ok {
					fields[i] = seedOpenCallback(t, number)
				}
			}
			var stdout, stderr bytes.Buffer
			if code := cmdSimulate(fields, &stdout, &stderr); code != 0 {
				t.Fatalf("kefu simulate %s: exit %d\n%s", args, code, stderr.String())
			}
			// The config hash changes with every edit of the default;
			// the timeline is what matters.
			got := version.ReplaceAllString(stdout.String(), "(config VERSION)")
			if *update {
				if err := os.WriteFile(file, []byte(head+"\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("kefu simulate %s:\n%s\nwant:\n%s\n(review, then: go test ./cmd/kefu -run TestSimulateGolden -update)", args, got, want)
			}
		})
	}
}

// seedOpenCallback makes a data directory whose store holds an open
// callback for number: a golden timeline names it as -data
// @open-callback:NUMBER.
func seedOpenCallback(t *testing.T, number string) string {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC)
	if _, err := st.AddCallback(t.Context(), records.Callback{CallID: "earlier", Caller: number, Number: number, Reason: "system_down", At: at}); err != nil {
		t.Fatal(err)
	}
	return dir
}
