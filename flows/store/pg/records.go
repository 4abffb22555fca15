package pg

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kefu-hotline/kefu/flows/records"
)

// The records a call leaves behind (package records): callbacks and
// complaints are promises made to a caller, so they commit durably;
// survey answers commit with synchronous_commit off. Errors from here
// never show a number.

const (
	callbackColumns  = `id, call_id, caller, number, reason, queue, at, done_at, joined, priority, outcome, done_by`
	complaintColumns = `id, call_id, caller, class, at, deadline, recording, duration, state, replied_at, replied_by`
	surveyColumns    = `id, call_id, caller, survey, score, dtmf, at, flow, version`
)

// AddCallback implements records.Store; it commits durably.
func (s *Store) AddCallback(ctx context.Context, c records.Callback) (records.Callback, error) {
	c, err := records.PrepareCallback(c)
	if err == nil {
		err = s.writeDurably(ctx, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `
INSERT INTO callbacks (call_id, caller, number, reason, queue, at, joined, priority) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id`, c.CallID, c.Caller, c.Number, c.Reason, c.Queue, c.At, nullable(&c.Joined), c.Priority).Scan(&c.ID)
		})
	}
	if err != nil {
		return records.Callback{}, fmt.Errorf("store: add callback: %w", err)
	}
	return c, nil
}

// AddComplaint implements records.Store; it commits durably.
func (s *Store) AddComplaint(ctx context.Context, c records.Complaint) (records.Complaint, error) {
	c, err := records.PrepareComplaint(c)
	if err == nil {
		err = s.writeDurably(ctx, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `
INSERT INTO complaints (call_id, caller, class, at, deadline, recording, duration, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id`, c.CallID, c.Caller, c.Class, c.At, c.Deadline, c.Recording, c.Duration.Microseconds(), string(c.State)).Scan(&c.ID)
		})
	}
	if err != nil {
		return records.Complaint{}, fmt.Errorf("store: add complaint: %w", err)
	}
	return c, nil
}

// FinishComplaint implements records.Store; it commits durably.
func (s *Store) FinishComplaint(ctx context.Context, id int64, end records.ComplaintEnd) error {
	end, err := records.PrepareEnd(id, end, false)
	if err == nil {
		err = s.writeDurably(ctx, func(tx pgx.Tx) error {
			return oneRow(tx.Exec(ctx, `UPDATE complaints SET state = $1, recording = $2, duration = $3
WHERE id = $4 AND state = 'recording'`, string(end.State), end.Recording, end.Duration.Microseconds(), id))
		})
	}
	if err != nil {
		return fmt.Errorf("store: finish complaint %d: %w", id, err)
	}
	return nil
}

// DropComplaint implements records.Store; it commits durably.
func (s *Store) DropComplaint(ctx context.Context, id int64) error {
	_, err := records.PrepareEnd(id, records.ComplaintEnd{}, true)
	if err == nil {
		err = s.writeDurably(ctx, func(tx pgx.Tx) error {
			return oneRow(tx.Exec(ctx, `DELETE FROM complaints WHERE id = $1 AND state = 'recording'`, id))
		})
	}
	if err != nil {
		return fmt.Errorf("store: drop complaint %d: %w", id, err)
	}
	return nil
}

// AddSurvey implements records.Store.
func (s *Store) AddSurvey(ctx context.Context, a records.SurveyAnswer) (records.SurveyAnswer, error) {
	a, err := records.PrepareSurvey(a)
	if err == nil {
		err = s.write(ctx, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `
INSERT INTO survey_answers (call_id, caller, survey, score, dtmf, at, flow, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id`, a.CallID, a.Caller, a.Survey, a.Score, a.Key, a.At, a.Flow, a.Version).Scan(&a.ID)
		})
	}
	if err != nil {
		return records.SurveyAnswer{}, fmt.Errorf("store: add survey answer: %w", err)
	}
	return a, nil
}

// Complaint returns complaint id (for its recording: the ops API serves
// it); records.ErrNotFound when there is none.
func (s *Store) Complaint(ctx context.Context, id int64) (records.Complaint, error) {
	c, err := scanComplaint(s.pool.QueryRow(ctx, `SELECT `+complaintColumns+` FROM complaints WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = records.ErrNotFound
	}
	if err != nil {
		return records.Complaint{}, fmt.Errorf("store: complaint %d: %w", id, err)
	}
	return c, nil
}

// Callbacks implements records.Lister; f.State does not apply.
func (s *Store) Callbacks(ctx context.Context, f records.Filter) ([]records.Callback, error) {
	f.State = ""
	out, err := query(ctx, s, f, `SELECT `+callbackColumns+` FROM callbacks`, "done_at", scanCallback)
	if err != nil {
		return nil, fmt.Errorf("store: callbacks: %w", err)
	}
	return out, nil
}

// Complaints implements records.Lister.
func (s *Store) Complaints(ctx context.Context, f records.Filter) ([]records.Complaint, error) {
	out, err := query(ctx, s, f, `SELECT `+complaintColumns+` FROM complaints`, "replied_at", scanComplaint)
	if err != nil {
		return nil, fmt.Errorf("store: complaints: %w", err)
	}
	return out, nil
}

// Surveys implements records.Lister; f.Open and f.State do not apply.
func (s *Store) Surveys(ctx context.Context, f records.Filter) ([]records.SurveyAnswer, error) {
	f.Open, f.State = false, ""
	out, err := query(ctx, s, f, `SELECT `+surveyColumns+` FROM survey_answers`, "", scanSurvey)
	if err != nil {
		return nil, fmt.Errorf("store: survey answers: %w", err)
	}
	return out, nil
}

// Count implements records.Lister: the records of kind f selects, however
// many Limit and Offset would show.
func (s *Store) Count(ctx context.Context, kind records.Kind, f records.Filter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", kind, err)
	}
	var table, closed string
	switch kind {
	case records.Callbacks:
		table, closed, f.State = "callbacks", "done_at", ""
	case records.Complaints:
		table, closed = "complaints", "replied_at"
	case records.Surveys:
		table, f.Open, f.State = "survey_answers", false, ""
	default:
		return 0, fmt.Errorf("store: count %q: %w", kind, records.ErrInvalid)
	}
	where, args := filterWhere(f, closed)
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+table+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", kind, err)
	}
	return n, nil
}

// query runs sel (a SELECT ... FROM table) with f's conditions in list
// order. closedCol is the column that is NULL while a record is open.
func query[T any](ctx context.Context, s *Store, f records.Filter, sel, closedCol string, scan func(scanner) (T, error)) ([]T, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	where, args := filterWhere(f, closedCol)
	order := ` ORDER BY at, id`
	if f.Newest {
		order = ` ORDER BY at DESC, id DESC`
	}
	var limit any // NULL: no limit
	if f.Limit > 0 {
		limit = int64(f.Limit)
	}
	n := len(args)
	q := sel + where + order + ` LIMIT $` + strconv.Itoa(n+1) + ` OFFSET $` + strconv.Itoa(n+2)
	rows, err := s.pool.Query(ctx, q, append(args, limit, int64(f.Offset))...)
	return collect(rows, err, scan)
}

// filterWhere is the WHERE clause of f's conditions and its arguments
// ($1 on). With f.Open the condition is written as the partial indexes'
// WHERE; the state is a literal (Validate allowed only the three states)
// so that the planner can take its partial index.
func filterWhere(f records.Filter, closedCol string) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if !f.Since.IsZero() {
		args = append(args, ceil(f.Since))
		conds = append(conds, `at >= $`+strconv.Itoa(len(args)))
	}
	if f.Open {
		conds = append(conds, closedCol+` IS NULL`)
	}
	if f.CallID != "" {
		args = append(args, f.CallID)
		conds = append(conds, `call_id = $`+strconv.Itoa(len(args)))
	}
	if f.State != "" {
		conds = append(conds, `state = '`+string(f.State)+`'`)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(conds, ` AND `), args
}

// MarkCallbackDone implements records.Lister; it commits durably.
func (s *Store) MarkCallbackDone(ctx context.Context, id int64, t time.Time, by string) error {
	if err := s.mark(ctx, `UPDATE callbacks SET done_by = CASE WHEN done_at IS NULL THEN $3 ELSE done_by END,
	done_at = coalesce(done_at, $1), outcome = CASE outcome WHEN '' THEN 'done' ELSE outcome END WHERE id = $2`, id, t, by); err != nil {
		return fmt.Errorf("store: callback %d done: %w", id, err)
	}
	return nil
}

// MarkComplaintReplied implements records.Lister; it commits durably.
func (s *Store) MarkComplaintReplied(ctx context.Context, id int64, t time.Time, by string) error {
	if err := s.mark(ctx, `UPDATE complaints SET replied_by = CASE WHEN replied_at IS NULL THEN $3 ELSE replied_by END,
	replied_at = coalesce(replied_at, $1) WHERE id = $2`, id, t, by); err != nil {
		return fmt.Errorf("store: complaint %d replied: %w", id, err)
	}
	return nil
}

// mark runs update (which keeps a time and a name already set: marking
// twice changes nothing) for id at t by by; records.ErrNotFound when no
// row has id.
func (s *Store) mark(ctx context.Context, update string, id int64, t time.Time, by string) error {
	t, err := records.CheckMark(id, t, by)
	if err != nil {
		return err
	}
	return s.writeDurably(ctx, func(tx pgx.Tx) error {
		return oneRow(tx.Exec(ctx, update, t, id, by))
	})
}

// Summary implements records.Lister, in one statement: one snapshot.
func (s *Store) Summary(ctx context.Context, now, since time.Time) (records.Summary, error) {
	var sum records.Summary
	err := s.pool.QueryRow(ctx, `SELECT
	(SELECT count(*) FROM callbacks WHERE done_at IS NULL),
	(SELECT count(*) FROM complaints WHERE replied_at IS NULL),
	(SELECT count(*) FROM complaints WHERE replied_at IS NULL AND deadline < $1),
	(SELECT count(*) FROM complaints WHERE replied_at IS NULL AND state = 'interrupted'),
	(SELECT count(*) FROM complaints WHERE at >= $2),
	(SELECT count(*) FROM complaints WHERE at >= $2 AND replied_at > deadline),
	(SELECT count(*) FROM survey_answers WHERE at >= $2),
	(SELECT coalesce(avg(score), 0)::float8 FROM survey_answers WHERE at >= $2)`,
		ceil(now), ceil(since)).Scan(&sum.OpenCallbacks, &sum.OpenComplaints, &sum.Overdue, &sum.Interrupted,
		&sum.Complaints, &sum.RepliedLate, &sum.Surveys, &sum.MeanScore)
	if err != nil {
		return records.Summary{}, fmt.Errorf("store: summary: %w", err)
	}
	return sum, nil
}

func scanCallback(r scanner) (records.Callback, error) {
	var (
		c            records.Callback
		done, joined *time.Time
	)
	if err := r.Scan(&c.ID, &c.CallID, &c.Caller, &c.Number, &c.Reason, &c.Queue, &c.At, &done, &joined, &c.Priority, &c.Outcome, &c.DoneBy); err != nil {
		return records.Callback{}, err
	}
	c.At, c.Joined = c.At.UTC(), utc(joined)
	if done != nil {
		c.Done, c.DoneAt = true, done.UTC()
	}
	return c, nil
}

func scanComplaint(r scanner) (records.Complaint, error) {
	var (
		c       records.Complaint
		dur     int64
		state   string
		replied *time.Time
	)
	if err := r.Scan(&c.ID, &c.CallID, &c.Caller, &c.Class, &c.At, &c.Deadline, &c.Recording, &dur, &state, &replied, &c.RepliedBy); err != nil {
		return records.Complaint{}, err
	}
	c.At, c.Deadline, c.Duration = c.At.UTC(), c.Deadline.UTC(), time.Duration(dur)*time.Microsecond
	c.State = records.ComplaintState(state)
	if replied != nil {
		c.Replied, c.RepliedAt = true, replied.UTC()
	}
	return c, nil
}

func scanSurvey(r scanner) (records.SurveyAnswer, error) {
	var a records.SurveyAnswer
	if err := r.Scan(&a.ID, &a.CallID, &a.Caller, &a.Survey, &a.Score, &a.Key, &a.At, &a.Flow, &a.Version); err != nil {
		return records.SurveyAnswer{}, err
	}
	a.At = a.At.UTC()
	return a, nil
}
