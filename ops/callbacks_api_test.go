package ops_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/ops"
	"github.com/kefu-hotline/kefu/sip"
)

// fakeDesk is the callbacks' desk on a records.Memory; it remembers what
// the scheduler was told.
type fakeDesk struct {
	mem    *records.Memory
	told   []string
	trunks []sip.TrunkStatus
}

func (d *fakeDesk) Attempts(ctx context.Context, id int64) ([]records.Attempt, error) {
	return d.mem.Attempts(ctx, id)
}

func (d *fakeDesk) Cancel(ctx context.Context, id int64, at time.Time) error {
	if err := d.mem.CloseCallback(ctx, id, records.OutcomeCancelled, at); err != nil {
		return err
	}
	d.told = append(d.told, "cancel")
	return nil
}

func (d *fakeDesk) Requeue(ctx context.Context, id int64) error {
	if err := d.mem.Reopen(ctx, id); err != nil {
		return err
	}
	d.told = append(d.told, "requeue")
	return nil
}

func (d *fakeDesk) Trunks() []sip.TrunkStatus { return d.trunks }

func (d *fakeDesk) Resolve(ctx context.Context, id int64, at time.Time, by string) (records.FollowUp, error) {
	f, err := d.mem.ResolveComplaint(ctx, id, at, by)
	if err == nil {
		d.told = append(d.told, "resolve")
	}
	return f, err
}

// TestCallbacksAPI: a callback's attempts are listed; ops cancel one and
// re-queue it (the scheduler is told each time); unknown ids get 404 and
// bad ones 400; the trunks are listed.
func TestCallbacksAPI(t *testing.T) {
	mem := new(records.Memory)
	ctx := t.Context()
	cb, err := mem.AddCallback(ctx, recordstest.Callback("a", recordstest.T0))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := mem.StartAttempt(ctx, records.Attempt{CallbackID: cb.ID, Round: 1, Started: recordstest.T0.Add(time.Minute), Agent: "8001", Trunk: "carrier"})
	a.Ended, a.Result, a.Counts = recordstest.T0.Add(2*time.Minute), records.AttemptNoAnswer, true
	if err := mem.EndAttempt(ctx, a, time.Time{}); err != nil {
		t.Fatal(err)
	}
	d := &fakeDesk{mem: mem, trunks: []sip.TrunkStatus{{Name: "carrier", Register: true, State: "registered", Up: true, MaxCalls: 2}}}
	mux := http.NewServeMux()
	ops.MountCallbacks(mux, d, nil)
	h := ops.API(mux, func() *time.Location { return time.UTC })

	code, body, _ := serve(h, "GET", "/api/callbacks/1/attempts", "")
	var as []map[string]any
	if err := json.Unmarshal([]byte(body), &as); code != 200 || err != nil || len(as) != 1 || as[0]["result"] != "no_answer" ||
		as[0]["counts"] != true || as[0]["agent"] != "8001" {
		t.Errorf("attempts: %d %s", code, body)
	}
	if code, body, _ := serve(h, "POST", "/api/callbacks/1/cancel", ""); code != 204 {
		t.Errorf("cancel: %d %s", code, body)
	}
	cbs, _ := mem.Callbacks(ctx, records.Filter{})
	if cbs[0].Outcome != records.OutcomeCancelled {
		t.Errorf("after the cancel: %+v", cbs[0])
	}
	if code, body, _ := serve(h, "POST", "/api/callbacks/1/requeue", ""); code != 204 {
		t.Errorf("requeue: %d %s", code, body)
	}
	if p, err := mem.PendingOne(ctx, cb.ID); err != nil || p.Round != 2 {
		t.Errorf("after the re-queue: %+v %v", p, err)
	}
	if !slices.Equal(d.told, []string{"cancel", "requeue"}) {
		t.Errorf("the scheduler was told %v", d.told)
	}
	for _, c := range []struct {
		method, target string
		code           int
	}{
		{"POST", "/api/callbacks/9/cancel", 404},
		{"POST", "/api/callbacks/9/requeue", 404},
		{"POST", "/api/callbacks/x/cancel", 400},
		{"GET", "/api/callbacks/1/attempts?all=1", 400},
		{"GET", "/api/callbacks/1/cancel", 405},
	} {
		if code, body, _ := serve(h, c.method, c.target, ""); code != c.code {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.target, code, body, c.code)
		}
	}
	c, _ := mem.AddComplaint(ctx, recordstest.Complaint("c", recordstest.T0))
	code, body, _ = serve(h, "POST", fmt.Sprintf("/api/complaints/%d/resolved", c.ID), `{"by":"王经理"}`)
	var f struct {
		Resolved, Due time.Time
		By            string
	}
	if err := json.Unmarshal([]byte(body), &f); code != 200 || err != nil || f.Due.Sub(f.Resolved) != 24*time.Hour || f.By != "王经理" {
		t.Errorf("resolved: %d %s", code, body)
	}
	if code, body, _ := serve(h, "POST", "/api/complaints/99/resolved", ""); code != 404 {
		t.Errorf("resolved, no complaint: %d %s", code, body)
	}
	code, body, _ = serve(h, "GET", "/api/trunks", "")
	if code != 200 || !json.Valid([]byte(body)) || !strings.Contains(body, `"state":"registered"`) {
		t.Errorf("trunks: %d %s", code, body)
	}
}
