package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// The records a call leaves behind (package records): callbacks and
// complaints are promises made to a caller, so they commit durably
// (synchronous=FULL, like the nuisance list); survey answers commit
// normally (they survive a crash of kefu, not a power cut). Errors from
// here never show a number.

var _ records.Backend = (*SQLite)(nil)

const (
	callbackColumns  = `id, call_id, caller, number, reason, queue, at, done_at, joined, priority, outcome, done_by`
	complaintColumns = `id, call_id, caller, class, at, deadline, recording, duration, state, replied_at, replied_by`
	surveyColumns    = `id, call_id, caller, survey, score, dtmf, at, flow, version`
)

// AddCallback implements records.Store; it commits durably.
func (s *SQLite) AddCallback(ctx context.Context, c records.Callback) (records.Callback, error) {
	c, err := records.PrepareCallback(c)
	if err == nil {
		err = s.writeDurably(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `
INSERT INTO callbacks (call_id, caller, number, reason, queue, at, joined, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id`, c.CallID, c.Caller, c.Number, c.Reason, c.Queue, micros(c.At), nullMicros(c.Joined), c.Priority).Scan(&c.ID)
		})
	}
	if err != nil {
		return records.Callback{}, fmt.Errorf("store: add callback: %w", err)
	}
	return c, nil
}

// AddComplaint implements records.Store; it commits durably.
func (s *SQLite) AddComplaint(ctx context.Context, c records.Complaint) (records.Complaint, error) {
	c, err := records.PrepareComplaint(c)
	if err == nil {
		err = s.writeDurably(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `
INSERT INTO complaints (call_id, caller, class, at, deadline, recording, duration, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id`, c.CallID, c.Caller, c.Class, micros(c.At), micros(c.Deadline), c.Recording, c.Duration.Microseconds(), string(c.State)).Scan(&c.ID)
		})
	}
	if err != nil {
		return records.Complaint{}, fmt.Errorf("store: add complaint: %w", err)
	}
	return c, nil
}

// FinishComplaint implements records.Store; it commits durably.
func (s *SQLite) FinishComplaint(ctx context.Context, id int64, end records.ComplaintEnd) error {
	end, err := records.PrepareEnd(id, end, false)
	if err == nil {
		err = s.writeDurably(ctx, func(tx *sql.Tx) error {
			return oneRow(tx.ExecContext(ctx, `UPDATE complaints SET state = ?1, recording = ?2, duration = ?3
WHERE id = ?4 AND state = 'recording'`, string(end.State), end.Recording, end.Duration.Microseconds(), id))
		})
	}
	if err != nil {
		return fmt.Errorf("store: finish complaint %d: %w", id, err)
	}
	return nil
}

// DropComplaint implements records.Store; it commits durably.
func (s *SQLite) DropComplaint(ctx context.Context, id int64) error {
	_, err := records.PrepareEnd(id, records.ComplaintEnd{}, true)
	if err == nil {
		err = s.writeDurably(ctx, func(tx *sql.Tx) error {
			return oneRow(tx.ExecContext(ctx, `DELETE FROM complaints WHERE id = ?1 AND state = 'recording'`, id))
		})
	}
	if err != nil {
		return fmt.Errorf("store: drop complaint %d: %w", id, err)
	}
	return nil
}

// oneRow turns an update or delete that matched no row into
// records.ErrNotFound.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	// SQLite counts the rows the WHERE matched, changed or not.
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return records.ErrNotFound
	}
	return nil
}

// AddSurvey implements records.Store.
func (s *SQLite) AddSurvey(ctx context.Context, a records.SurveyAnswer) (records.SurveyAnswer, error) {
	a, err := records.PrepareSurvey(a)
	if err == nil {
		err = s.write(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `
INSERT INTO survey_answers (call_id, caller, survey, score, dtmf, at, flow, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id`, a.CallID, a.Caller, a.Survey, a.Score, a.Key, micros(a.At), a.Flow, a.Version).Scan(&a.ID)
		})
	}
	if err != nil {
		return records.SurveyAnswer{}, fmt.Errorf("store: add survey answer: %w", err)
	}
	return a, nil
}

// Callbacks implements records.Lister; f.State does not apply.
func (s *SQLite) Callbacks(ctx context.Context, f records.Filter) ([]records.Callback, error) {
	f.State = ""
	out, err := query(ctx, s, f, `SELECT `+callbackColumns+` FROM callbacks`, "done_at", scanCallback)
	if err != nil {
		return nil, fmt.Errorf("store: callbacks: %w", err)
	}
	return out, nil
}

// Complaints implements records.Lister.
func (s *SQLite) Complaints(ctx context.Context, f records.Filter) ([]records.Complaint, error) {
	out, err := query(ctx, s, f, `SELECT `+complaintColumns+` FROM complaints`, "replied_at", scanComplaint)
	if err != nil {
		return nil, fmt.Errorf("store: complaints: %w", err)
	}
	return out, nil
}

// Surveys implements records.Lister; f.Open and f.State do not apply.
func (s *SQLite) Surveys(ctx context.Context, f records.Filter) ([]records.SurveyAnswer, error) {
	f.Open, f.State = false, ""
	out, err := query(ctx, s, f, `SELECT `+surveyColumns+` FROM survey_answers`, "", scanSurvey)
	if err != nil {
		return nil, fmt.Errorf("store: survey answers: %w", err)
	}
	return out, nil
}

// query runs sel (a SELECT ... FROM table) with f's conditions in list
// order. closedCol is the column that is NULL while a record is open; a
// state condition is for a table with a state column. With f.Open the
// condition is written as the partial indexes' WHERE, so SQLite reads the
// open rows' index alone.
func query[T any](ctx context.Context, s *SQLite, f records.Filter, sel, closedCol string, scan func(scanner) (T, error)) ([]T, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	q := sel + filterWhere(f, closedCol) + ` ORDER BY at, id LIMIT ?2 OFFSET ?4`
	if f.Newest {
		q = sel + filterWhere(f, closedCol) + ` ORDER BY at DESC, id DESC LIMIT ?2 OFFSET ?4`
	}
	limit := int64(-1) // SQLite: no limit
	if f.Limit > 0 {
		limit = int64(f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, ceilMicros(f.Since), limit, f.CallID, f.Offset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// filterWhere is the WHERE clause of f's conditions, with ?1 since and
// ?3 the call id. closedCol is the column that is NULL while a record is
// open; a state condition is for a table with a state column.
func filterWhere(f records.Filter, closedCol string) string {
	q := ` WHERE at >= ?1`
	if f.Open {
		q += ` AND ` + closedCol + ` IS NULL`
	}
	if f.CallID != "" {
		q += ` AND call_id = ?3`
	}
	if f.State != "" {
		// A literal (Validate allowed only the three states), so that
		// SQLite can read the state's partial index.
		q += ` AND state = '` + string(f.State) + `'`
	}
	return q
}

// MarkCallbackDone implements records.Lister; it commits durably.
func (s *SQLite) MarkCallbackDone(ctx context.Context, id int64, at time.Time, by string) error {
	if err := s.mark(ctx, `UPDATE callbacks SET done_by = CASE WHEN done_at IS NULL THEN ?3 ELSE done_by END,
	done_at = coalesce(done_at, ?1), outcome = CASE outcome WHEN '' THEN 'done' ELSE outcome END WHERE id = ?2`, id, at, by); err != nil {
		return fmt.Errorf("store: callback %d done: %w", id, err)
	}
	return nil
}

// MarkComplaintReplied implements records.Lister; it commits durably.
func (s *SQLite) MarkComplaintReplied(ctx context.Context, id int64, at time.Time, by string) error {
	if err := s.mark(ctx, `UPDATE complaints SET replied_by = CASE WHEN replied_at IS NULL THEN ?3 ELSE replied_by END,
	replied_at = coalesce(replied_at, ?1) WHERE id = ?2`, id, at, by); err != nil {
		return fmt.Errorf("store: complaint %d replied: %w", id, err)
	}
	return nil
}

// mark runs update (which keeps a time and a name already set: marking
// twice changes nothing) for id at at by by; records.ErrNotFound when no
// row has id.
func (s *SQLite) mark(ctx context.Context, update string, id int64, at time.Time, by string) error {
	at, err := records.CheckMark(id, at, by)
	if err != nil {
		return err
	}
	return s.writeDurably(ctx, func(tx *sql.Tx) error {
		return oneRow(tx.ExecContext(ctx, update, micros(at), id, by))
	})
}

// Summary implements records.Lister, in one statement: one snapshot.
func (s *SQLite) Summary(ctx context.Context, now, since time.Time) (records.Summary, error) {
	var sum records.Summary
	err := s.r.QueryRowContext(ctx, `SELECT
	(SELECT count(*) FROM callbacks WHERE done_at IS NULL),
	(SELECT count(*) FROM complaints WHERE replied_at IS NULL),
	(SELECT count(*) FROM complaints WHERE replied_at IS NULL AND deadline < ?1),
	(SELECT count(*) FROM complaints WHERE replied_at IS NULL AND state = 'interrupted'),
	(SELECT count(*) FROM complaints WHERE at >= ?2),
	(SELECT count(*) FROM complaints WHERE at >= ?2 AND replied_at > deadline),
	(SELECT count(*) FROM survey_answers WHERE at >= ?2),
	(SELECT coalesce(avg(score), 0.0) FROM survey_answers WHERE at >= ?2)`,
		ceilMicros(now), ceilMicros(since)).Scan(&sum.OpenCallbacks, &sum.OpenComplaints, &sum.Overdue, &sum.Interrupted,
		&sum.Complaints, &sum.RepliedLate, &sum.Surveys, &sum.MeanScore)
	if err != nil {
		return records.Summary{}, fmt.Errorf("store: summary: %w", err)
	}
	return sum, nil
}

// ceilMicros is t in unix microseconds rounded up, so that comparing a
// stored time with it gives what comparing the times would: stored >= t
// exactly when stored >= ceilMicros(t), and stored < t exactly when
// stored < ceilMicros(t). The zero time is before every stored one.
func ceilMicros(t time.Time) int64 {
	if t.IsZero() {
		return minMicros
	}
	m := t.UnixMicro()
	if t.After(time.UnixMicro(m)) {
		m++
	}
	return m
}

// minMicros is below every time kefu stores.
const minMicros = -1 << 63

func scanCallback(r scanner) (records.Callback, error) {
	var (
		c            records.Callback
		at           int64
		done, joined sql.NullInt64
	)
	if err := r.Scan(&c.ID, &c.CallID, &c.Caller, &c.Number, &c.Reason, &c.Queue, &at, &done, &joined, &c.Priority, &c.Outcome, &c.DoneBy); err != nil {
		return records.Callback{}, err
	}
	c.At = fromMicros(at)
	if joined.Valid {
		c.Joined = fromMicros(joined.Int64)
	}
	if done.Valid {
		c.Done, c.DoneAt = true, fromMicros(done.Int64)
	}
	return c, nil
}

func scanComplaint(r scanner) (records.Complaint, error) {
	var (
		c                 records.Complaint
		at, deadline, dur int64
		state             string
		replied           sql.NullInt64
	)
	if err := r.Scan(&c.ID, &c.CallID, &c.Caller, &c.Class, &at, &deadline, &c.Recording, &dur, &state, &replied, &c.RepliedBy); err != nil {
		return records.Complaint{}, err
	}
	c.At, c.Deadline, c.Duration = fromMicros(at), fromMicros(deadline), time.Duration(dur)*time.Microsecond
	c.State = records.ComplaintState(state)
	if replied.Valid {
		c.Replied, c.RepliedAt = true, fromMicros(replied.Int64)
	}
	return c, nil
}

func scanSurvey(r scanner) (records.SurveyAnswer, error) {
	var (
		a  records.SurveyAnswer
		at int64
	)
	if err := r.Scan(&a.ID, &a.CallID, &a.Caller, &a.Survey, &a.Score, &a.Key, &at, &a.Flow, &a.Version); err != nil {
		return records.SurveyAnswer{}, err
	}
	a.At = fromMicros(at)
	return a, nil
}
