package records_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
)

func TestMemory(t *testing.T) {
	recordstest.Run(t, func(*testing.T) records.Backend { return new(records.Memory) })
	t.Run("Shared", func(t *testing.T) {
		recordstest.Shared(t, func(*testing.T) (a, b records.Backend) {
			m := new(records.Memory)
			return m, m
		})
	})
}

// TestMemoryErr: a Memory with Err set fails every call with it.
func TestMemoryErr(t *testing.T) {
	boom := errors.New("boom")
	m := &records.Memory{Err: boom}
	ctx := t.Context()
	if _, err := m.AddCallback(ctx, recordstest.Callback("c", recordstest.T0)); !errors.Is(err, boom) {
		t.Errorf("add: %v", err)
	}
	if _, err := m.Complaints(ctx, records.Filter{}); !errors.Is(err, boom) {
		t.Errorf("list: %v", err)
	}
	if err := m.MarkComplaintReplied(ctx, 1, recordstest.T0, "ops"); !errors.Is(err, boom) {
		t.Errorf("mark: %v", err)
	}
	if _, err := m.Summary(ctx, recordstest.T0, time.Time{}); !errors.Is(err, boom) {
		t.Errorf("summary: %v", err)
	}
}

func TestOverdue(t *testing.T) {
	t0 := recordstest.T0
	due := t0.Add(records.DefaultReplyWithin)
	cs := []records.Complaint{
		{ID: 1, At: t0, Deadline: due},
		{ID: 2, At: t0, Deadline: due, Replied: true, RepliedAt: due.Add(time.Hour)},
		{ID: 3, At: t0, Deadline: due.Add(time.Second)},
		{ID: 4, At: t0, Deadline: t0.Add(time.Hour)},
	}
	for _, tc := range []struct {
		now  time.Time
		want []int64
	}{
		{t0, nil},
		{due, []int64{4}}, // due at now: not overdue yet
		{due.Add(time.Nanosecond), []int64{1, 4}},
		{due.Add(time.Hour), []int64{1, 3, 4}},
	} {
		var got []int64
		for _, c := range records.OverdueComplaints(cs, tc.now) {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("at %v: %v; want %v", tc.now, got, tc.want)
		}
	}
}

func TestPrepare(t *testing.T) {
	c, err := records.PrepareComplaint(records.Complaint{At: recordstest.T0, ID: 9})
	if err != nil || c.ID != 0 || !c.Deadline.Equal(recordstest.T0.Add(24*time.Hour)) {
		t.Errorf("complaint: %+v %v", c, err)
	}
	if _, err := records.CheckMark(0, recordstest.T0); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("mark id 0: %v", err)
	}
	if err := (records.Filter{Limit: -1}).Validate(); !errors.Is(err, records.ErrInvalid) {
		t.Errorf("filter: %v", err)
	}
}

// TestRecoverMemory: Recover finishes what kefu left behind, on Memory.
func TestRecoverMemory(t *testing.T) {
	recordstest.Recover(t, func(*testing.T) records.Backend { return new(records.Memory) })
}
