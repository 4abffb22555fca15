package recordstest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media/audio"
)

// mono is how kefu records: 8 kHz mono 16-bit PCM.
var mono = audio.Format{Rate: 8000, Channels: 1}

// recoverCase is one recording kefu left behind: a complaint in some
// state (or none), its file in some state, and what Recover must make of
// them.
type recoverCase struct {
	name  string
	state records.ComplaintState // "": no complaint
	file  string                 // "part", "final", "none", "header", "empty", "garbage", "part+extra"
	audio time.Duration          // in the file
	// What the complaint must say afterwards.
	wantState records.ComplaintState
	wantFile  string // "final", "none", "part"
	wantDur   time.Duration
}

// Recover runs the recovery scenario on a new backend from open: a data
// directory with complaints and recording files in every state kefu can
// leave them in.
func Recover(t *testing.T, open func(t *testing.T) records.Backend) {
	b := open(t)
	ctx := t.Context()
	dir := t.TempDir()
	cases := []recoverCase{
		{"killed mid-recording", records.Recording, "part", 1500 * time.Millisecond, records.Interrupted, "final", 1500 * time.Millisecond},
		{"killed with a partial sample", records.Recording, "part+extra", 2 * time.Second, records.Interrupted, "final", 2 * time.Second},
		{"killed before any audio", records.Recording, "header", 0, records.Interrupted, "none", 0},
		{"killed before the header", records.Recording, "empty", 0, records.Interrupted, "none", 0},
		{"killed before the file", records.Recording, "none", 0, records.Interrupted, "none", 0},
		{"killed after the file was finished", records.Recording, "final", 3 * time.Second, records.Interrupted, "final", 3 * time.Second},
		{"a file that is not audio", records.Recording, "garbage", 0, records.Interrupted, "part", 0},
		{"finished normally", records.Recorded, "final", 4 * time.Second, records.Recorded, "final", 4 * time.Second},
		{"finished, rename lost", records.Recorded, "part", 5 * time.Second, records.Recorded, "final", 5 * time.Second},
		{"already interrupted", records.Interrupted, "final", time.Second, records.Interrupted, "final", time.Second},
		{"no complaint: the store failed", "", "part", 2500 * time.Millisecond, records.Interrupted, "final", 2500 * time.Millisecond},
		// Started as a complaint: listed, though there is nothing to hear.
		{"no complaint, no audio", "", "header", 0, records.Interrupted, "none", 0},
	}
	ids := map[string]int64{}
	for i, tc := range cases {
		at := T0.Add(time.Duration(i) * time.Minute)
		callID := fmt.Sprintf("call %d/%s", i, strings.ReplaceAll(tc.name, " ", "-"))
		rel := records.RecordingPath("general", at, callID)
		writeRecording(t, filepath.Join(dir, filepath.FromSlash(rel)), tc.file, tc.audio)
		if tc.state == "" {
			continue
		}
		c := Complaint(callID, at)
		c.Recording, c.State, c.Duration = rel, tc.state, tc.audio
		if tc.state == records.Recording {
			c.Duration = 0
		}
		c, err := b.AddComplaint(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		ids[tc.name] = c.ID
	}

	got, err := records.Recover(ctx, dir, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Interrupted) != 7 || len(got.Orphans) != 2 || got.Failed != 1 {
		t.Errorf("recovered %d interrupted, %d orphans, %d failed; want 7, 2, 1", len(got.Interrupted), len(got.Orphans), got.Failed)
	}
	cs, err := b.Complaints(ctx, records.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	byCall := map[string]records.Complaint{}
	for _, c := range cs {
		byCall[c.CallID] = c
	}
	for i, tc := range cases {
		at := T0.Add(time.Duration(i) * time.Minute)
		callID := fmt.Sprintf("call %d/%s", i, strings.ReplaceAll(tc.name, " ", "-"))
		rel := records.RecordingPath("general", at, callID)
		c, ok := byCall[callID]
		if tc.state == "" {
			// Added from the file name: the call id as it could be kept.
			c, ok = byCall[records.SafeName(callID)]
		}
		switch {
		case tc.wantState == "" && ok:
			t.Errorf("%s: a complaint was added: %+v", tc.name, c)
			continue
		case tc.wantState == "":
			continue
		case !ok:
			t.Errorf("%s: no complaint", tc.name)
			continue
		}
		if tc.state != "" && c.ID != ids[tc.name] {
			t.Errorf("%s: complaint %d, want %d", tc.name, c.ID, ids[tc.name])
		}
		if tc.state == "" && (c.Class != "general" || !c.At.Equal(at) || c.Caller != "") {
			t.Errorf("%s: added %+v, want class general at %v", tc.name, c, at)
		}
		wantRec := map[string]string{"final": rel, "part": rel + records.PartSuffix, "none": ""}[tc.wantFile]
		if c.State != tc.wantState || c.Duration != tc.wantDur || c.Recording != wantRec {
			t.Errorf("%s: %s, %v, %q; want %s, %v, %q", tc.name, c.State, c.Duration, c.Recording, tc.wantState, tc.wantDur, wantRec)
		}
		path := filepath.Join(dir, filepath.FromSlash(rel))
		_, partErr := os.Stat(path + records.PartSuffix)
		switch tc.wantFile {
		case "final":
			if partErr == nil {
				t.Errorf("%s: the part file is still there", tc.name)
			}
			if n := decodedSamples(t, path); n != int(tc.wantDur.Seconds()*8000) {
				t.Errorf("%s: the recording decodes to %d samples, want %v of audio", tc.name, n, tc.wantDur)
			}
		case "none":
			if _, err := os.Stat(path); partErr == nil || err == nil {
				t.Errorf("%s: a file without audio was kept", tc.name)
			}
		case "part":
			if partErr != nil {
				t.Errorf("%s: the part file a person must look at is gone: %v", tc.name, partErr)
			}
		}
	}

	// Nothing more to do the second time.
	again, err := records.Recover(ctx, dir, b, nil)
	if err != nil || len(again.Interrupted) != 0 || len(again.Orphans) != 0 || again.Failed != 1 {
		t.Errorf("second recovery: %+v %v; want only the file it cannot finish", again, err)
	}
	if n, _ := b.Complaints(ctx, records.Filter{}); len(n) != len(cs) {
		t.Errorf("second recovery: %d complaints, want %d", len(n), len(cs))
	}
	s, err := b.Summary(ctx, T0, time.Time{})
	if err != nil || s.Interrupted != 10 {
		t.Errorf("summary %+v %v; want 10 interrupted", s, err)
	}

	// A data directory without recordings is fine.
	if r, err := records.Recover(ctx, t.TempDir(), open(t), nil); err != nil || r.Failed != 0 {
		t.Errorf("empty data directory: %+v %v", r, err)
	}
}

// writeRecording leaves a recording at path as kefu would have: "part" is
// a part file cut off mid-way (its header last updated a second before,
// unless the recording is shorter), "final" a finished file, "header" a
// part file with its header only, "empty" one with nothing, "garbage" one
// that is not audio, "none" nothing at all.
func writeRecording(t *testing.T, path, kind string, d time.Duration) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	samples := make([]int16, int(d.Seconds()*8000))
	for i := range samples {
		samples[i] = int16(1000 + i%2000)
	}
	var b []byte
	switch kind {
	case "none":
		return
	case "final":
		var buf bytes.Buffer
		if err := audio.WriteWAV(&buf, mono, samples); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o640); err != nil {
			t.Fatal(err)
		}
		return
	case "empty":
	case "garbage":
		b = []byte("this is not a WAV file at all, is it?")
	default: // part, part+extra, header: a Writer that was never closed
		f, err := os.Create(path + records.PartSuffix)
		if err != nil {
			t.Fatal(err)
		}
		w, err := audio.NewWriter(f, mono)
		if err != nil {
			t.Fatal(err)
		}
		for frame := range slices.Chunk(samples, 160) {
			if err := w.Write(frame); err != nil {
				t.Fatal(err)
			}
		}
		if kind == "part+extra" {
			if _, err := f.Write([]byte{7}); err != nil { // half a sample
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := os.WriteFile(path+records.PartSuffix, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// decodedSamples is how many samples the WAV file at path decodes to.
func decodedSamples(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := audio.ReadWAV(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return len(p.Samples)
}
