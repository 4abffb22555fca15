package ops_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/ops"
)

// recordsEnv is the records API over a Memory, on a clock the test sets,
// logging into a buffer.
type recordsEnv struct {
	t   *testing.T
	mem *records.Memory
	mux *http.ServeMux
	h   http.Handler
	now time.Time
	log bytes.Buffer
}

func newRecordsEnv(t *testing.T) *recordsEnv {
	e := &recordsEnv{t: t, mem: new(records.Memory), mux: http.NewServeMux(), now: recordstest.T0}
	logger := slog.New(slog.NewTextHandler(&e.log, nil))
	ops.MountRecords(e.mux, e.mem, logger, ops.WithRecordsClock(func() time.Time { return e.now }))
	e.h = ops.API(e.mux, func() *time.Location { return time.FixedZone("CST", 8*3600) })
	return e
}

// body serves a GET and returns the body.
func (e *recordsEnv) body(target string) string {
	_, b := e.do("GET", target, nil)
	return b
}

// do serves one request and returns the status and body; when v is not
// nil the body is decoded into it.
func (e *recordsEnv) do(method, target string, v any) (int, string) {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	body := rec.Body.String()
	if v != nil && rec.Code == http.StatusOK {
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			e.t.Errorf("%s %s: Content-Type %q", method, target, ct)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, target, err, body)
		}
	}
	return rec.Code, body
}

// seed leaves, an hour apart from T0: three callbacks, three complaints
// (the last one due within an hour) and three survey answers.
func (e *recordsEnv) seed() {
	e.t.Helper()
	ctx := e.t.Context()
	for i, id := range []string{"a", "b", "c"} {
		at := recordstest.T0.Add(time.Duration(i) * time.Hour)
		c := recordstest.Complaint(id, at)
		if i == 2 {
			c.Deadline = at.Add(time.Hour)
		}
		_, err := e.mem.AddCallback(ctx, recordstest.Callback(id, at))
		if err == nil {
			_, err = e.mem.AddComplaint(ctx, c)
		}
		if err == nil {
			_, err = e.mem.AddSurvey(ctx, recordstest.Survey(id, at, 3+2*i))
		}
		if err != nil {
			e.t.Fatal(err)
		}
	}
}

type callback struct {
	ID     int64     `json:"id"`
	CallID string    `json:"call_id"`
	Caller string    `json:"caller"`
	Number string    `json:"number"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	Done   bool      `json:"done"`
	DoneAt time.Time `json:"done_at"`
	DoneBy string    `json:"done_by"`
}

type complaint struct {
	ID        int64     `json:"id"`
	CallID    string    `json:"call_id"`
	Deadline  time.Time `json:"deadline"`
	Recording string    `json:"recording"`
	Duration  float64   `json:"duration_seconds"`
	State     string    `json:"state"`
	Replied   bool      `json:"replied"`
	RepliedAt time.Time `json:"replied_at"`
	RepliedBy string    `json:"replied_by"`
	Overdue   bool      `json:"overdue"`
}

func TestRecordsCallbacks(t *testing.T) {
	e := newRecordsEnv(t)
	e.seed()
	var pg page[callback]
	if code, body := e.do("GET", "/api/callbacks", &pg); code != 200 || pg.Total != 3 || len(pg.Items) != 3 || pg.Limit != 100 || pg.Offset != 0 {
		t.Fatalf("list: %d %s", code, body)
	}
	if !strings.Contains(e.body("/api/callbacks"), `"at":"2026-03-02T09:00:00+08:00"`) {
		t.Errorf("times not in the zone: %s", e.body("/api/callbacks"))
	}
	cbs := pg.Items
	if c := cbs[2]; c.ID != 1 || c.CallID != "a" || c.Number != recordstest.Number || c.Caller != recordstest.Caller ||
		c.Reason != "system_down" || !c.At.Equal(recordstest.T0) || c.Done {
		t.Errorf("first callback %+v", c)
	}
	if _, body := e.do("GET", "/api/callbacks", nil); strings.Contains(body, "done_at") {
		t.Errorf("open callbacks show done_at: %s", body)
	}

	e.now = recordstest.T0.Add(5 * time.Hour)
	if code, body := e.do("POST", "/api/callbacks/2/done", nil); code != 204 {
		t.Fatalf("done: %d %s", code, body)
	}
	e.now = e.now.Add(time.Hour)
	if code, body := e.do("POST", "/api/callbacks/2/done", nil); code != 204 {
		t.Fatalf("done again: %d %s", code, body)
	}
	e.do("GET", "/api/callbacks?since=2026-03-02T10:00:00%2B08:00&limit=1&offset=1", &pg) // T0+1h
	if cbs = pg.Items; pg.Total != 2 || len(cbs) != 1 || cbs[0].ID != 2 || !cbs[0].Done || !cbs[0].DoneAt.Equal(recordstest.T0.Add(5*time.Hour)) {
		t.Errorf("since, limit, offset: %+v", pg)
	}
	e.do("GET", "/api/callbacks?open=1", &pg)
	if cbs = pg.Items; pg.Total != 2 || len(cbs) != 2 || cbs[0].ID != 3 || cbs[1].ID != 1 {
		t.Errorf("open: %+v", pg)
	}
	e.do("GET", "/api/callbacks?open=false", &pg)
	if pg.Total != 3 {
		t.Errorf("open=false: %+v", pg)
	}
	if code, body := e.do("POST", "/api/callbacks/99/done", nil); code != 404 || !strings.Contains(body, `"error"`) {
		t.Errorf("unknown id: %d %s", code, body)
	}
	if code, _ := e.do("GET", "/api/callbacks/1/done", nil); code != 405 {
		t.Errorf("GET done: %d, want 405", code)
	}
	// The log names the callback by id only.
	if l := e.log.String(); !strings.Contains(l, "id=2") || strings.Contains(l, recordstest.Number) || strings.Contains(l, recordstest.Caller) {
		t.Errorf("log: %s", l)
	}
}

func TestRecordsComplaints(t *testing.T) {
	e := newRecordsEnv(t)
	e.seed()
	e.now = recordstest.T0.Add(3*time.Hour + time.Second) // "c" was due at T0+3h
	var pg page[complaint]
	if code, body := e.do("GET", "/api/complaints", &pg); code != 200 || pg.Total != 3 {
		t.Fatalf("list: %d %s", code, body)
	}
	cs := pg.Items
	if c := cs[2]; c.Overdue || !c.Deadline.Equal(recordstest.T0.Add(24*time.Hour)) || c.Recording != "recordings/a.wav" || c.Duration != 42 {
		t.Errorf("first complaint %+v", c)
	}
	if !cs[0].Overdue {
		t.Errorf("third complaint is not overdue: %+v", cs[0])
	}
	if code, body := e.do("POST", "/api/complaints/3/replied", nil); code != 204 {
		t.Fatalf("replied: %d %s", code, body)
	}
	e.do("GET", "/api/complaints?open=1", &pg)
	if cs = pg.Items; len(cs) != 2 || cs[0].ID != 2 || cs[1].ID != 1 {
		t.Errorf("open: %+v", cs)
	}
	e.do("GET", "/api/complaints?since=2026-03-02T03:00:00Z", &pg)
	if cs = pg.Items; len(cs) != 1 || !cs[0].Replied || cs[0].Overdue || !cs[0].RepliedAt.Equal(e.now.Truncate(time.Microsecond)) {
		t.Errorf("replied complaint: %+v", cs)
	}
	e.now = recordstest.T0.Add(25 * time.Hour)
	e.do("GET", "/api/complaints?open=1", &pg)
	if cs = pg.Items; len(cs) != 2 || cs[0].Overdue || !cs[1].Overdue {
		t.Errorf("overdue at T0+25h: %+v", cs)
	}
	if code, _ := e.do("POST", "/api/complaints/4/replied", nil); code != 404 {
		t.Errorf("unknown complaint: %d", code)
	}
}

// TestRecordsInterrupted: a complaint kefu's stopping cut short is listed
// with its state, found by ?state= and by its call's id, and counted in
// the summary.
func TestRecordsInterrupted(t *testing.T) {
	e := newRecordsEnv(t)
	e.seed()
	ctx := t.Context()
	for _, id := range []string{"cut", "live"} {
		c := recordstest.Complaint(id, recordstest.T0.Add(5*time.Hour))
		c.State, c.Duration = records.Recording, 0
		if _, err := e.mem.AddComplaint(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.mem.FinishComplaint(ctx, 4, records.ComplaintEnd{State: records.Interrupted, Recording: "recordings/cut.wav", Duration: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	var pg page[complaint]
	if code, body := e.do("GET", "/api/complaints", &pg); code != 200 || len(pg.Items) != 5 ||
		pg.Items[4].State != "recorded" || pg.Items[1].State != "interrupted" || pg.Items[0].State != "recording" {
		t.Fatalf("list: %d %s", code, body)
	}
	e.do("GET", "/api/complaints?state=interrupted&open=1", &pg)
	if cs := pg.Items; len(cs) != 1 || cs[0].CallID != "cut" || cs[0].Duration != 1.5 || cs[0].Recording != "recordings/cut.wav" {
		t.Errorf("interrupted: %+v", pg)
	}
	e.do("GET", "/api/complaints?call_id=live", &pg)
	if cs := pg.Items; len(cs) != 1 || cs[0].State != "recording" {
		t.Errorf("by call id: %+v", cs)
	}
	var cbs page[callback]
	e.do("GET", "/api/callbacks?call_id=b", &cbs)
	if cbs.Total != 1 || cbs.Items[0].CallID != "b" {
		t.Errorf("callbacks by call id: %+v", cbs)
	}
	var s map[string]any
	e.do("GET", "/api/records/summary", &s)
	if s["interrupted"] != 1.0 || s["open_complaints"] != 5.0 {
		t.Errorf("summary: %v", s)
	}
}

func TestRecordsSurveysAndSummary(t *testing.T) {
	e := newRecordsEnv(t)
	e.seed()
	var as page[struct {
		Survey string `json:"survey"`
		Score  int    `json:"score"`
		Key    string `json:"key"`
		Flow   string `json:"flow"`
	}]
	if code, body := e.do("GET", "/api/surveys?limit=2", &as); code != 200 || as.Total != 3 || len(as.Items) != 2 || as.Items[1].Score != 5 || as.Items[1].Key != "5" || as.Items[1].Flow != "main" {
		t.Fatalf("surveys: %d %s", code, body)
	}
	e.now = recordstest.T0.Add(4 * time.Hour)
	if code, body := e.do("POST", "/api/callbacks/1/done", nil); code != 204 {
		t.Fatal(code, body)
	}
	var s map[string]any
	if code, body := e.do("GET", "/api/records/summary", &s); code != 200 {
		t.Fatalf("summary: %d %s", code, body)
	}
	want := map[string]float64{"open_callbacks": 2, "open_complaints": 3, "overdue": 1, "complaints": 3, "replied_late": 0, "surveys": 3, "mean_score": 5}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("summary %s = %v, want %v (%v)", k, s[k], v, s)
		}
	}
	if s["now"] != "2026-03-02T13:00:00+08:00" || s["since"] != nil {
		t.Errorf("summary now/since: %v", s)
	}
	e.do("GET", "/api/records/summary?since=2026-03-02T02:00:00Z", &s)
	if s["surveys"] != 2.0 || s["mean_score"] != 6.0 || s["since"] != "2026-03-02T10:00:00+08:00" {
		t.Errorf("summary since T0+1h: %v", s)
	}
}

func TestRecordsBadRequests(t *testing.T) {
	e := newRecordsEnv(t)
	for _, tc := range []struct{ method, target, want string }{
		{"GET", "/api/callbacks?open=maybe", `open: "maybe": want 1 or 0`},
		{"GET", "/api/callbacks?since=yesterday", `since: "yesterday": want an RFC 3339 time`},
		{"GET", "/api/callbacks?since=2026-03-02T09:00:00", "want an RFC 3339 time with an offset"},
		{"GET", "/api/complaints?limit=0", `limit: "0": want an integer from 1 to 1000`},
		{"GET", "/api/complaints?limit=-5", "want an integer"},
		{"GET", "/api/complaints?limit=1001", "want an integer"},
		{"GET", "/api/complaints?limit=ten", `limit: "ten": want an integer`},
		{"GET", "/api/complaints?offset=-1", `offset: "-1": want an integer from 0`},
		{"GET", "/api/callbacks?opne=1", "opne: unknown parameter; want since, call_id, limit, offset, open"},
		{"GET", "/api/complaints?state=lost", `state: "lost": want recording, recorded or interrupted`},
		{"GET", "/api/callbacks?state=recorded", "state: unknown parameter"},
		{"GET", "/api/callbacks?open=1&open=0", "open: given more than once"},
		{"GET", "/api/callbacks?open=%zz", "query: malformed"},
		{"GET", "/api/surveys?open=1", "open: unknown parameter"},
		{"GET", "/api/records/summary?limit=3", "limit: unknown parameter"},
		{"GET", "/api/records/summary?since=3", `since: "3": want`},
		{"POST", "/api/callbacks/abc/done", `id: "abc": want a positive integer`},
		{"POST", "/api/callbacks/0/done", "want a positive integer"},
		{"POST", "/api/complaints/-1/replied", "want a positive integer"},
		{"POST", "/api/complaints/99999999999999999999/replied", "want a positive integer"},
	} {
		code, body := e.do(tc.method, tc.target, nil)
		var got struct{ Error string }
		if err := json.Unmarshal([]byte(body), &got); code != 400 || err != nil || !strings.Contains(got.Error, tc.want) {
			t.Errorf("%s %s: %d %s; want 400 with %q", tc.method, tc.target, code, body, tc.want)
		}
	}
}

// TestRecordsStoreError: a failing store gives 500 with the error, logged
// without numbers.
func TestRecordsStoreError(t *testing.T) {
	e := newRecordsEnv(t)
	e.seed()
	e.mem.Err = errors.New("disk on fire")
	for _, target := range []string{"/api/callbacks", "/api/complaints", "/api/surveys", "/api/records/summary"} {
		if code, body := e.do("GET", target, nil); code != 500 || !strings.Contains(body, "disk on fire") {
			t.Errorf("GET %s: %d %s", target, code, body)
		}
	}
	if code, _ := e.do("POST", "/api/callbacks/1/done", nil); code != 500 {
		t.Errorf("done: %d", code)
	}
	if l := e.log.String(); !strings.Contains(l, "disk on fire") || strings.Contains(l, recordstest.Number) || strings.Contains(l, recordstest.Caller) {
		t.Errorf("log: %s", l)
	}
}

// TestRecordsNilLogger: MountRecords works without a logger.
func TestRecordsNilLogger(t *testing.T) {
	mux := http.NewServeMux()
	ops.MountRecords(mux, new(records.Memory), nil)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/api/complaints/1/replied", nil))
	if rec.Code != 404 {
		t.Errorf("replied on an empty store: %d %s", rec.Code, rec.Body)
	}
}

// TestRecordsMarkedBy: a record says who closed it: the body's "by", else
// the holder of the token the request came with; a second mark changes
// neither who nor when.
func TestRecordsMarkedBy(t *testing.T) {
	e := newRecordsEnv(t)
	e.seed()
	guard := &ops.Guard{Tokens: func() []ops.Token {
		return []ops.Token{{Name: "wang", Role: ops.Operator, SHA256: ops.HashToken("secret")}}
	}}
	h := guard.Wrap(e.h)
	post := func(target, body string) int {
		t.Helper()
		req := httptest.NewRequest("POST", target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	e.now = recordstest.T0.Add(5 * time.Hour)
	if code := post("/api/callbacks/1/done", `{"by":"ops:li"}`); code != 204 {
		t.Fatalf("done by li: %d", code)
	}
	if code := post("/api/callbacks/2/done", ""); code != 204 {
		t.Fatalf("done with the token: %d", code)
	}
	if code := post("/api/callbacks/1/done", `{"by":"ops:zhao"}`); code != 204 {
		t.Fatalf("done again: %d", code)
	}
	if code := post("/api/complaints/1/replied", `{"by":"ops:li"}`); code != 204 {
		t.Fatalf("replied: %d", code)
	}
	if code := post("/api/complaints/2/replied", `{"who":"x"}`); code != 400 {
		t.Errorf("an unknown field: %d", code)
	}
	var cbs page[callback]
	e.do("GET", "/api/callbacks", &cbs)
	if c := cbs.Items; c[2].DoneBy != "ops:li" || c[1].DoneBy != "wang" || c[0].DoneBy != "" || !c[2].DoneAt.Equal(e.now) {
		t.Errorf("callbacks done by: %+v", c)
	}
	var cs page[complaint]
	e.do("GET", "/api/complaints", &cs)
	if c := cs.Items[2]; c.RepliedBy != "ops:li" || !c.RepliedAt.Equal(e.now) {
		t.Errorf("complaint replied by: %+v", c)
	}
	if l := e.log.String(); !strings.Contains(l, "by=ops:li") || !strings.Contains(l, "by=wang") {
		t.Errorf("log: %s", l)
	}
}
