package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/flows/store"
)

// writeRecords leaves records the way the flow runner does: two callbacks,
// one of them called back, a complaint and a survey answer.
func writeRecords(ctx context.Context, st *store.SQLite) error {
	t0 := recordstest.T0
	cb, err := st.AddCallback(ctx, recordstest.Callback("c1", t0))
	if err == nil {
		_, err = st.AddCallback(ctx, recordstest.Callback("c2", t0.Add(time.Second)))
	}
	if err == nil {
		err = st.MarkCallbackDone(ctx, cb.ID, t0.Add(time.Hour), "ops")
	}
	if err == nil {
		_, err = st.AddComplaint(ctx, recordstest.Complaint("c3", t0))
	}
	if err == nil {
		_, err = st.AddSurvey(ctx, recordstest.Survey("c4", t0, 9))
	}
	return err
}

// TestRecordsSurviveKill: callbacks, complaints and survey answers a
// process committed are there after it dies without closing the store.
func TestRecordsSurviveKill(t *testing.T) {
	for _, mode := range []string{"exit", "kill"} {
		t.Run(mode, func(t *testing.T) {
			s := openIn(t, crashChild(t, "records", mode))
			cbs, err := s.Callbacks(t.Context(), records.Filter{})
			if err != nil || len(cbs) != 2 || !cbs[0].Done || cbs[1].Done || cbs[1].Number != recordstest.Number {
				t.Fatalf("callbacks after the crash: %+v %v", cbs, err)
			}
			sum, err := s.Summary(t.Context(), recordstest.T0, time.Time{})
			want := records.Summary{OpenCallbacks: 1, OpenComplaints: 1, Complaints: 1, Surveys: 1, MeanScore: 9}
			if err != nil || sum != want {
				t.Fatalf("summary after the crash: %+v %v; want %+v", sum, err, want)
			}
		})
	}
}
