package flows

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

const recordFlow = `
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: complaint
        record:
          class: billing
          on_empty: bye
      - name: complaint_close
        say: {prompt: complaint.close}
      - name: complaint_end
        hangup: {}
      - name: bye
        say: {prompt: close.bye}
      - name: bye_end
        hangup: {}
`

// recordCall is a fake call that checks, when the recording starts, that
// its complaint is already stored, and whose recording may fail.
type recordCall struct {
	*fakeCall
	t         *testing.T
	store     records.Lister
	recordErr error // from Record
	stopErr   error // from the recording's Stop
	rel       string
	atStart   []records.Complaint // the complaints being recorded when Record was called
}

func (c *recordCall) Record(rel string) (Recording, error) {
	c.rel = rel
	var err error
	if c.store != nil {
		c.atStart, err = c.store.Complaints(context.Background(), records.Filter{State: records.Recording})
		if err != nil {
			c.t.Error(err)
		}
	}
	if c.recordErr != nil {
		return nil, c.recordErr
	}
	return &failingRecording{rel: rel, start: time.Now(), err: c.stopErr}, nil
}

type failingRecording struct {
	rel   string
	start time.Time
	err   error
}

func (r *failingRecording) Stop() (RecordingInfo, error) {
	return RecordingInfo{Path: r.rel, Duration: time.Since(r.start)}, r.err
}

// flakyStore fails its first adds of a complaint.
type flakyStore struct {
	*records.Memory
	fail int
}

func (s *flakyStore) AddComplaint(ctx context.Context, c records.Complaint) (records.Complaint, error) {
	if s.fail > 0 {
		s.fail--
		return records.Complaint{}, errors.New("disk full")
	}
	return s.Memory.AddComplaint(ctx, c)
}

// runRecord runs recordFlow on call, the caller speaking 1 s at 10 s
// unless silent, and returns the complaints stored and the run's error.
func runRecord(t *testing.T, call *recordCall, st records.Store, silent bool) ([]records.Complaint, error) {
	t.Helper()
	cfg, err := Parse("r.yaml", []byte(recordFlow))
	if err != nil {
		t.Fatal(err)
	}
	_, cat := loadDefault(t)
	var (
		cs     []records.Complaint
		runErr error
	)
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)
		call.fakeCall, call.t = newFakeCall(cancel), t
		if !silent {
			call.speakAt(10 * time.Second)
		}
		f, _ := cfg.Flow("f")
		r := NewRunner(cfg, f, call, cat, Options{Info: CallInfo{CallID: "c1/x", Caller: "13812345678"}, Records: st})
		runErr = r.Run(ctx)
		cs, err = call.store.Complaints(t.Context(), records.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) > 0 && r.Result.Complaint != cs[0].ID {
			t.Errorf("result names complaint %d, stored %d", r.Result.Complaint, cs[0].ID)
		}
	})
	return cs, runErr
}

// TestRecordStoredFirst: no complaint is lost to a crash — it is stored,
// being recorded, before the recording starts, in a file named by the
// call; the end of the recording finishes it.
func TestRecordStoredFirst(t *testing.T) {
	mem := &records.Memory{}
	call := &recordCall{store: mem}
	cs, err := runRecord(t, call, mem, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(call.atStart) != 1 || call.atStart[0].Recording != call.rel || call.atStart[0].Caller != "13812345678" || call.atStart[0].Class != "billing" {
		t.Fatalf("when the recording started: %+v; want the complaint being recorded into %s", call.atStart, call.rel)
	}
	if want := records.RecordingPath("billing", call.atStart[0].At, "c1/x"); call.rel != want {
		t.Errorf("recorded into %s, want %s", call.rel, want)
	}
	if len(cs) != 1 || cs[0].ID != call.atStart[0].ID || cs[0].State != records.Recorded || cs[0].Recording != call.rel || cs[0].Duration < 15*time.Second {
		t.Errorf("complaints %+v; want the one started, recorded", cs)
	}
}

// TestRecordNothingSaidDropped: a caller who says nothing leaves no
// complaint: the one stored at the start is dropped.
func TestRecordNothingSaidDropped(t *testing.T) {
	mem := &records.Memory{}
	call := &recordCall{store: mem}
	cs, err := runRecord(t, call, mem, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(call.atStart) != 1 || len(cs) != 0 {
		t.Errorf("complaints %+v (at the start %+v); want one at the start, none after", cs, call.atStart)
	}
	if slices.ContainsFunc(call.played, func(p played) bool { return p.id == "complaint.close" }) {
		t.Error("the complaint closing was said for no complaint")
	}
}

// TestRecordFailures: a recording that fails at its end is stored as
// interrupted, and the flow goes on to the closing (the complaint is
// kept); one that cannot start is listed as interrupted; a store that
// failed at the start stores the complaint whole at the end.
func TestRecordFailures(t *testing.T) {
	mem := &records.Memory{}
	call := &recordCall{store: mem, stopErr: errors.New("disk full")}
	cs, err := runRecord(t, call, mem, false)
	if err != nil {
		t.Errorf("stop failed: %v; want the flow to go on", err)
	}
	if len(cs) != 1 || cs[0].State != records.Interrupted || cs[0].Recording != call.rel || cs[0].Duration < 15*time.Second {
		t.Errorf("stop failed: complaints %+v; want one interrupted with its recording", cs)
	}
	if !slices.ContainsFunc(call.played, func(p played) bool { return p.id == "complaint.close" }) {
		t.Error("stop failed: no complaint closing")
	}

	mem = &records.Memory{}
	call = &recordCall{store: mem, recordErr: errors.New("no space")}
	cs, err = runRecord(t, call, mem, false)
	if err == nil {
		t.Error("record failed: no error")
	}
	if len(cs) != 1 || cs[0].State != records.Interrupted || cs[0].Recording != "" || cs[0].Caller != "13812345678" {
		t.Errorf("record failed: complaints %+v; want one interrupted without a recording", cs)
	}

	flaky := &flakyStore{Memory: &records.Memory{}, fail: 1}
	call = &recordCall{store: flaky}
	cs, err = runRecord(t, call, flaky, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(call.atStart) != 0 || len(cs) != 1 || cs[0].State != records.Recorded || cs[0].Recording != call.rel {
		t.Errorf("store failed at the start: complaints %+v; want one recorded at the end", cs)
	}
}
