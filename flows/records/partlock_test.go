//go:build unix

package records_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
)

// TestRecoverLeavesLiveParts: on a recordings folder several nodes share,
// a node starting leaves alone the part files another node's recorder
// holds (LockPart) — the one of a complaint being recorded and one no
// complaint names yet — and finishes them once nobody holds them (that
// node stopped or died).
func TestRecoverLeavesLiveParts(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	// The recordings folder is a link to the one the nodes share.
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, records.RecordingsDir)); err != nil {
		t.Fatal(err)
	}
	b := &records.Memory{}
	rel := records.RecordingPath("general", recordstest.T0, "live-1")
	orphan := records.RecordingPath("general", recordstest.T0.Add(time.Minute), "live-2")
	var held []*os.File
	for _, r := range []string{rel, orphan} {
		p := filepath.Join(dir, filepath.FromSlash(r)) + records.PartSuffix
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		if err := records.LockPart(f); err != nil {
			t.Fatal(err)
		}
		if !records.PartInUse(p) {
			t.Fatalf("%s: not in use while locked", r)
		}
		held = append(held, f)
	}
	c := recordstest.Complaint("live-1", recordstest.T0)
	c.Recording, c.State, c.Duration = rel, records.Recording, 0
	c, err := b.AddComplaint(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := records.Recover(ctx, dir, b, nil)
	if err != nil || len(got.Interrupted)+len(got.Orphans)+got.Failed != 0 {
		t.Fatalf("recover with the parts held: %+v %v; want nothing touched", got, err)
	}
	if cs, _ := b.Complaints(ctx, records.Filter{State: records.Recording}); len(cs) != 1 {
		t.Fatalf("complaints being recorded after: %+v", cs)
	}
	for _, f := range held {
		_ = f.Close()
	}
	got, err = records.Recover(ctx, dir, b, nil)
	if err != nil || len(got.Interrupted) != 1 || got.Interrupted[0].ID != c.ID || len(got.Orphans) != 1 {
		t.Fatalf("recover once released: %+v %v", got, err)
	}
}
