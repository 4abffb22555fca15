package ops

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// RecordsOption configures MountRecords.
type RecordsOption func(*recordsAPI)

// WithRecordsClock sets the clock the API marks records done and judges
// complaints overdue by (default time.Now).
func WithRecordsClock(now func() time.Time) RecordsOption {
	return func(a *recordsAPI) { a.now = now }
}

type recordsAPI struct {
	l   records.Lister
	log *slog.Logger
	now func() time.Time
}

// MountRecords adds the API over what calls leave behind (package records)
// to mux:
//
//	GET  /api/callbacks                 callbacks, newest first (?open=1 &since=RFC3339 &call_id=ID &limit= &offset=)
//	POST /api/callbacks/{id}/done       someone called back (again: no change); {"by": WHO}, default the token's holder
//	GET  /api/complaints                complaints, with "overdue" as of the request (same parameters,
//	                                    and &state=recording|recorded|interrupted)
//	POST /api/complaints/{id}/replied   someone replied (again: no change); {"by": WHO} likewise
//	GET  /api/surveys                   survey answers (?since= &call_id= &limit= &offset=)
//	GET  /api/records/summary           open and overdue counts, answers and mean score (?since=)
//
// Lists are pages as every list of the API is ({"items", "total",
// "limit", "offset"}). A complaint's "state" says whether it is being
// recorded, was recorded, or was interrupted: kefu stopped while
// recording it (killed, crashed), and found it at its next start with the
// audio that reached the disk. since is inclusive. Bad parameters and ids
// get 400, unknown ids 404, each with {"error": "..."}. The JSON carries
// caller and callback numbers, which ops need to call back; the log gets
// ids only (CS-PRIVACY). log may be nil.
func MountRecords(mux *http.ServeMux, l records.Lister, log *slog.Logger, opts ...RecordsOption) {
	a := &recordsAPI{l: l, log: log, now: time.Now}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	for _, o := range opts {
		o(a)
	}
	mux.HandleFunc("GET /api/callbacks", list(a, records.Callbacks, listOpen, l.Callbacks, callbackOut))
	mux.HandleFunc("POST /api/callbacks/{id}/done", a.mark("callback done", l.MarkCallbackDone))
	mux.HandleFunc("GET /api/complaints", list(a, records.Complaints, listOpen|listState, l.Complaints, complaintOut))
	mux.HandleFunc("POST /api/complaints/{id}/replied", a.mark("complaint replied", l.MarkComplaintReplied))
	mux.HandleFunc("GET /api/surveys", list(a, records.Surveys, 0, l.Surveys, surveyOut))
	mux.HandleFunc("GET /api/records/summary", a.summary)
}

// callbackJSON is a records.Callback on the wire.
type callbackJSON struct {
	ID     int64     `json:"id"`
	CallID string    `json:"call_id"`
	Caller string    `json:"caller"`
	Number string    `json:"number"`
	Reason string    `json:"reason"`
	Queue  string    `json:"queue"`
	At     time.Time `json:"at"`
	Done   bool      `json:"done"`
	DoneAt time.Time `json:"done_at,omitzero"`
	DoneBy string    `json:"done_by,omitempty"`
	// Outcome is how a closed callback ended: done, no_answer (kefu's
	// attempts ran out), cancelled (issue 13).
	Outcome string `json:"outcome,omitempty"`
}

// complaintJSON is a records.Complaint on the wire, with Overdue judged
// at the request.
type complaintJSON struct {
	ID        int64     `json:"id"`
	CallID    string    `json:"call_id"`
	Caller    string    `json:"caller"`
	Class     string    `json:"class"`
	At        time.Time `json:"at"`
	Deadline  time.Time `json:"deadline"`
	Recording string    `json:"recording"`
	Duration  float64   `json:"duration_seconds"`
	State     string    `json:"state"` // recording, recorded or interrupted
	Replied   bool      `json:"replied"`
	RepliedAt time.Time `json:"replied_at,omitzero"`
	RepliedBy string    `json:"replied_by,omitempty"`
	Overdue   bool      `json:"overdue"`
}

// surveyJSON is a records.SurveyAnswer on the wire.
type surveyJSON struct {
	ID      int64     `json:"id"`
	CallID  string    `json:"call_id"`
	Caller  string    `json:"caller"`
	Survey  string    `json:"survey"`
	Score   int       `json:"score"`
	Key     string    `json:"key"`
	At      time.Time `json:"at"`
	Flow    string    `json:"flow"`
	Version string    `json:"version"`
}

// summaryJSON is a records.Summary on the wire.
type summaryJSON struct {
	Now            time.Time `json:"now"`
	Since          time.Time `json:"since,omitzero"`
	OpenCallbacks  int       `json:"open_callbacks"`
	OpenComplaints int       `json:"open_complaints"`
	Overdue        int       `json:"overdue"`
	Interrupted    int       `json:"interrupted"`
	Complaints     int       `json:"complaints"`
	RepliedLate    int       `json:"replied_late"`
	Surveys        int       `json:"surveys"`
	MeanScore      float64   `json:"mean_score"`
}

// listParams are the optional query parameters a list takes.
type listParams uint8

const (
	listOpen  listParams = 1 << iota // ?open=1
	listState                        // ?state=
)

// list serves a GET of one kind of record: the filter from the query
// (with the optional parameters in params), a page of the records newest
// first, each as JSON judged at now, and their total.
func list[R, J any](a *recordsAPI, kind records.Kind, params listParams, get func(context.Context, records.Filter) ([]R, error), toJSON func(R, time.Time) J) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := listFilter(r, params)
		if err != nil {
			a.reply(w, r, 0, nil, err)
			return
		}
		now := a.now()
		rs, err := get(r.Context(), f)
		if err != nil {
			a.reply(w, r, 0, nil, err)
			return
		}
		total, err := a.l.Count(r.Context(), kind, f)
		out := make([]J, len(rs))
		for i, rec := range rs {
			out[i] = toJSON(rec, now)
		}
		a.reply(w, r, http.StatusOK, pageJSON[J]{Items: out, Total: total, Limit: f.Limit, Offset: f.Offset}, err)
	}
}

func callbackOut(c records.Callback, _ time.Time) callbackJSON {
	return callbackJSON{ID: c.ID, CallID: c.CallID, Caller: c.Caller, Number: c.Number, Reason: c.Reason,
		Queue: c.Queue, At: c.At, Done: c.Done, DoneAt: c.DoneAt, DoneBy: c.DoneBy, Outcome: c.Outcome}
}

func complaintOut(c records.Complaint, now time.Time) complaintJSON {
	return complaintJSON{ID: c.ID, CallID: c.CallID, Caller: c.Caller, Class: c.Class, At: c.At,
		Deadline: c.Deadline, Recording: c.Recording, Duration: c.Duration.Seconds(), State: string(c.State),
		Replied: c.Replied, RepliedAt: c.RepliedAt, RepliedBy: c.RepliedBy, Overdue: c.Overdue(now)}
}

func surveyOut(s records.SurveyAnswer, _ time.Time) surveyJSON {
	return surveyJSON{ID: s.ID, CallID: s.CallID, Caller: s.Caller, Survey: s.Survey, Score: s.Score,
		Key: s.Key, At: s.At, Flow: s.Flow, Version: s.Version}
}

func (a *recordsAPI) summary(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "since")
	var since time.Time
	if err == nil {
		since, err = sinceParam(q)
	}
	if err != nil {
		a.reply(w, r, 0, nil, err)
		return
	}
	now := a.now()
	s, err := a.l.Summary(r.Context(), now, since)
	a.reply(w, r, http.StatusOK, summaryJSON{Now: now, Since: since, OpenCallbacks: s.OpenCallbacks,
		OpenComplaints: s.OpenComplaints, Overdue: s.Overdue, Interrupted: s.Interrupted, Complaints: s.Complaints,
		RepliedLate: s.RepliedLate, Surveys: s.Surveys, MeanScore: s.MeanScore}, err)
}

// mark serves POST .../{id}/done and .../{id}/replied with set: now, by
// the body's "by", else the holder of the request's token, else nobody
// named.
func (a *recordsAPI) mark(what string, set func(ctx context.Context, id int64, at time.Time, by string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if failed(w, r, noQuery(r)) {
			return
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			a.reply(w, r, 0, nil, badRequest("id", "%q: want a positive integer", r.PathValue("id")))
			return
		}
		var body struct {
			By string `json:"by"`
		}
		if r.ContentLength != 0 && failed(w, r, decodeBody(w, r, &body, 4096)) {
			return
		}
		if body.By == "" {
			body.By = tokenHolder(r)
		}
		if err := set(r.Context(), id, a.now(), body.By); err != nil {
			a.reply(w, r, 0, nil, err)
			return
		}
		a.log.Info(what, "id", id, "by", body.By)
		w.WriteHeader(http.StatusNoContent)
	}
}

// tokenHolder is the name of the token the request came with; "" without
// one (no tokens configured).
func tokenHolder(r *http.Request) string {
	if c := CallerOf(r); c.Name != "anonymous" {
		return c.Name
	}
	return ""
}

// listFilter reads ?since=, ?call_id=, ?limit=, ?offset= and those of
// params.
func listFilter(r *http.Request, params listParams) (records.Filter, error) {
	allowed := []string{"since", "call_id", "limit", "offset"}
	if params&listOpen != 0 {
		allowed = append(allowed, "open")
	}
	if params&listState != 0 {
		allowed = append(allowed, "state")
	}
	q, err := query(r, allowed...)
	if err != nil {
		return records.Filter{}, err
	}
	p, err := pageParams(q)
	if err != nil {
		return records.Filter{}, err
	}
	f := records.Filter{Newest: true, Limit: p.limit, Offset: p.offset, CallID: q.Get("call_id"), State: records.ComplaintState(q.Get("state"))}
	if f.Open, err = flag(q, "open"); err != nil {
		return records.Filter{}, err
	}
	if f.State != "" && !f.State.Valid() {
		return records.Filter{}, badRequest("state", "%q: want recording, recorded or interrupted", f.State)
	}
	if f.Since, err = sinceParam(q); err != nil {
		return records.Filter{}, err
	}
	return f, nil
}

// sinceParam reads ?since= (zero when absent).
func sinceParam(q url.Values) (time.Time, error) {
	v := q.Get("since")
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badRequest("since", "%q: want an RFC 3339 time with an offset, e.g. 2026-03-02T09:00:00+08:00", v)
	}
	return t, nil
}

// reply writes v with code, or err with the status it deserves: 400 for a
// bad parameter or record, 404 for an unknown id, 500 (logged) otherwise.
// Store errors carry no numbers, so logging them is safe.
func (a *recordsAPI) reply(w http.ResponseWriter, r *http.Request, code int, v any, err error) {
	var re *requestError
	switch {
	case errors.As(err, &re):
		fail(w, r, re.code, re.msg)
	case errors.Is(err, records.ErrInvalid):
		fail(w, r, http.StatusBadRequest, err.Error())
	case errors.Is(err, records.ErrNotFound):
		fail(w, r, http.StatusNotFound, err.Error())
	case err != nil:
		a.log.Error("records api", "method", r.Method, "path", r.URL.Path, "error", err)
		fail(w, r, http.StatusInternalServerError, err.Error())
	default:
		respond(w, r, code, v)
	}
}
