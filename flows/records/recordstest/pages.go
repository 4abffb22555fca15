package recordstest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// pages: lists come newest first with Newest, a page at a time with Limit
// and Offset, and Count gives the total whatever the page, with the same
// conditions as the list.
func pages(t *testing.T, b records.Backend) {
	ctx := t.Context()
	for i := range 5 {
		at := T0.Add(time.Duration(i) * time.Minute)
		id := fmt.Sprint("c", i)
		if _, err := b.AddCallback(ctx, Callback(id, at)); err != nil {
			t.Fatal(err)
		}
		c := Complaint(id, at)
		if i == 4 {
			c.State = records.Recording
		}
		if _, err := b.AddComplaint(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := b.AddSurvey(ctx, Survey(id, at, 5)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.MarkCallbackDone(ctx, 5, T0.Add(time.Hour), "ops"); err != nil {
		t.Fatal(err)
	}
	ids := func(cs []records.Callback) (out []int64) {
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		f     records.Filter
		want  []int64
		total int
	}{
		{records.Filter{Newest: true}, []int64{5, 4, 3, 2, 1}, 5},
		{records.Filter{Newest: true, Limit: 2}, []int64{5, 4}, 5},
		{records.Filter{Newest: true, Limit: 2, Offset: 2}, []int64{3, 2}, 5},
		{records.Filter{Newest: true, Limit: 2, Offset: 4}, []int64{1}, 5},
		{records.Filter{Newest: true, Offset: 9}, nil, 5},
		{records.Filter{Limit: 2, Offset: 1}, []int64{2, 3}, 5},
		{records.Filter{Newest: true, Open: true, Limit: 2}, []int64{4, 3}, 4},
		{records.Filter{Newest: true, Since: T0.Add(3 * time.Minute)}, []int64{5, 4}, 2},
		{records.Filter{Newest: true, CallID: "c2"}, []int64{3}, 1},
	} {
		got, err := b.Callbacks(ctx, tc.f)
		if err != nil || !slices.Equal(ids(got), tc.want) {
			t.Errorf("callbacks %+v: %v %v, want %v", tc.f, ids(got), err, tc.want)
		}
		if n, err := b.Count(ctx, records.Callbacks, tc.f); err != nil || n != tc.total {
			t.Errorf("count callbacks %+v: %d %v, want %d", tc.f, n, err, tc.total)
		}
	}
	if n, err := b.Count(ctx, records.Complaints, records.Filter{State: records.Recording}); err != nil || n != 1 {
		t.Errorf("count complaints being recorded: %d %v", n, err)
	}
	cs, err := b.Complaints(ctx, records.Filter{Newest: true, Limit: 1})
	if err != nil || len(cs) != 1 || cs[0].CallID != "c4" {
		t.Errorf("newest complaint: %+v %v", cs, err)
	}
	if n, err := b.Count(ctx, records.Surveys, records.Filter{Open: true, Limit: 1, Offset: 3}); err != nil || n != 5 {
		t.Errorf("count surveys: %d %v", n, err)
	}
	if _, err := b.Count(ctx, records.Kind("calls"), records.Filter{}); !errors.Is(err, records.ErrInvalid) {
		t.Errorf("count of an unknown kind: %v", err)
	}
	if _, err := b.Callbacks(ctx, records.Filter{Offset: -1}); !errors.Is(err, records.ErrInvalid) {
		t.Errorf("a negative offset: %v", err)
	}
}
