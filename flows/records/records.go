// Package records holds what a call leaves behind for people to act on:
// callbacks to make (CS-SYSTEM-DOWN, CS-ESCALATE), complaints to answer
// within their deadline (CS-COMPLAINT-CLOSE, CS-SLA) and satisfaction
// survey answers (CS-SURVEY).
//
// The flow runner writes through Store (the collect, record and survey
// verbs); the ops API reads and closes them through Lister. Memory
// implements both in memory for virtual-time simulation and tests;
// flows/store implements them on SQLite.
//
// Caller numbers, callback numbers and recordings are personal data
// (CS-PRIVACY): the records carry them as they are, and nothing in this
// package puts them in an error message or a log line; mask them before
// logging (callerid.Mask).
package records

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultReplyWithin is the time kefu promises to reply to a complaint in
// (CS-COMPLAINT-CLOSE, CS-SLA): a complaint added without a deadline gets
// At + DefaultReplyWithin.
const DefaultReplyWithin = 24 * time.Hour

// Score bounds of a survey answer: one DTMF digit.
const (
	MinScore = 1
	MaxScore = 9
)

// Errors the stores return; test them with errors.Is.
var (
	// ErrInvalid is a record or filter that cannot be stored or run;
	// the error is a *ValidationError naming the field.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound is an ID no record has.
	ErrNotFound = errors.New("not found")
)

// Callback is a number a caller left to be called back on: keyed in by
// DTMF and confirmed (CS-SYSTEM-DOWN), or taken when no supervisor was
// free (CS-ESCALATE).
type Callback struct {
	ID     int64
	CallID string // the SIP Call-ID of the call that left it
	Caller string // the calling number ("" or "anonymous" when withheld)
	Number string // the number keyed in to be called back: digits, optional leading '+'
	Reason string // why, e.g. "system_down", "queue_timeout", "escalate"
	Queue  string // the queue the caller was meant for, "" if none
	At     time.Time
	Done   bool      // closed: someone called back, or Outcome says why not
	DoneAt time.Time // when Done was set; zero while open
	// DoneBy is who marked it done (MarkCallbackDone); "" when kefu
	// closed it or nobody said.
	DoneBy string
	// Joined and Priority are the caller's place in Queue's line: when
	// they joined it and with what priority. A callback keeps that place
	// (issue 13); zero Joined: At.
	Joined   time.Time
	Priority int
	// Outcome is how a closed callback ended: OutcomeDone (someone called
	// back: kefu, or a person who said so), OutcomeNoAnswer (kefu's
	// attempts ran out), OutcomeCancelled (by ops); "" while open.
	Outcome string
}

// The outcomes of a closed callback.
const (
	OutcomeDone      = "done"
	OutcomeNoAnswer  = "no_answer"
	OutcomeCancelled = "cancelled"
)

// Complaint is a complaint a caller recorded (CS-COMPLAINT-CLOSE): kefu
// promised a reply by Deadline. A message (the record verb's class
// "message") is one too.
type Complaint struct {
	ID        int64
	CallID    string
	Caller    string
	Class     string // complaint class; the flow config picks the reply window by it
	At        time.Time
	Deadline  time.Time     // reply by; zero when adding: At + DefaultReplyWithin
	Recording string        // file path relative to the data directory, "" if none
	Duration  time.Duration // of the recording
	// State says whether the recording is under way, ended, or was cut
	// short by kefu stopping; "" when adding means Recorded.
	State     ComplaintState
	Replied   bool
	RepliedAt time.Time // zero while open
	RepliedBy string    // who marked it replied to; "" when nobody said
}

// ComplaintState is where a complaint's recording stands. The record verb
// adds the complaint as Recording before the first byte of audio, so a
// complaint is never lost to a crash: at the next start Recover finds it
// and marks it Interrupted, with the audio that reached the disk.
type ComplaintState string

// The states of a complaint.
const (
	Recording   ComplaintState = "recording"   // the caller is being recorded
	Recorded    ComplaintState = "recorded"    // the recording ended normally
	Interrupted ComplaintState = "interrupted" // kefu stopped (killed, crashed, a disk error) while recording
)

// Valid reports whether s is one of the states.
func (s ComplaintState) Valid() bool {
	return s == Recording || s == Recorded || s == Interrupted
}

// ComplaintEnd is how a recording ended: FinishComplaint's argument.
type ComplaintEnd struct {
	State     ComplaintState // Recorded or Interrupted
	Recording string         // the file, relative to the data directory; "" if none was kept
	Duration  time.Duration
}

// Overdue reports whether c is still unanswered after its deadline at now.
// A reply due at now is not overdue yet: "within 24 h" includes the 24th
// hour's end.
func (c Complaint) Overdue(now time.Time) bool {
	return !c.Replied && now.After(c.Deadline)
}

// OverdueComplaints returns the complaints in cs that are overdue at now
// (CS-SLA: reply within 24 h), in the order given.
func OverdueComplaints(cs []Complaint, now time.Time) []Complaint {
	var out []Complaint
	for _, c := range cs {
		if c.Overdue(now) {
			out = append(out, c)
		}
	}
	return out
}

// SurveyAnswer is one caller's satisfaction score (CS-SURVEY).
type SurveyAnswer struct {
	ID      int64
	CallID  string
	Caller  string
	Survey  string // the survey's name in the flow config
	Score   int    // MinScore..MaxScore
	Key     string // the DTMF key pressed, "" when the score came otherwise
	At      time.Time
	Flow    string // the flow and its config version that asked
	Version string
}

// Store is where the flow runner puts records. Implementations are safe
// for concurrent use, honour ctx, check each record with the matching
// Prepare function (errors wrap ErrInvalid) and return it as stored: with
// its new ID, times in UTC at microsecond resolution, defaults filled in.
type Store interface {
	// AddCallback stores a new, open callback.
	AddCallback(ctx context.Context, c Callback) (Callback, error)
	// AddComplaint stores a new, unanswered complaint: one being recorded
	// (State Recording, before the first byte of audio), or one whose
	// recording is over.
	AddComplaint(ctx context.Context, c Complaint) (Complaint, error)
	// FinishComplaint ends the recording of complaint id, which must be
	// in state Recording: it takes end's state, recording and duration.
	// ErrNotFound when no complaint id is being recorded.
	FinishComplaint(ctx context.Context, id int64, end ComplaintEnd) error
	// DropComplaint removes complaint id, being recorded, when the caller
	// said nothing: there was no complaint. ErrNotFound as FinishComplaint.
	DropComplaint(ctx context.Context, id int64) error
	// AddSurvey stores a survey answer.
	AddSurvey(ctx context.Context, a SurveyAnswer) (SurveyAnswer, error)
}

// Lister is what ops read and close records through. Lists are ordered by
// At, oldest first (the callback that waited longest comes first), then
// by ID; or the other way round, newest first, with Filter.Newest.
type Lister interface {
	// Callbacks lists callbacks matching f.
	Callbacks(ctx context.Context, f Filter) ([]Callback, error)
	// Complaints lists complaints matching f.
	Complaints(ctx context.Context, f Filter) ([]Complaint, error)
	// Surveys lists survey answers matching f; f.Open does not apply.
	Surveys(ctx context.Context, f Filter) ([]SurveyAnswer, error)
	// MarkCallbackDone records that callback id was made at at, by
	// whom (a name, at most MaxTextLen bytes; "" if unknown). Marking a
	// done callback again changes nothing; ErrNotFound when there is no
	// such callback.
	MarkCallbackDone(ctx context.Context, id int64, at time.Time, by string) error
	// MarkComplaintReplied records that complaint id was answered at at
	// by by, like MarkCallbackDone.
	MarkComplaintReplied(ctx context.Context, id int64, at time.Time, by string) error
	// Summary counts the records as of now; see Summary.
	Summary(ctx context.Context, now, since time.Time) (Summary, error)
	// Count counts the records of kind that f selects, whatever its
	// Limit and Offset: the total of a list shown a page at a time.
	Count(ctx context.Context, kind Kind, f Filter) (int, error)
}

// Kind names a kind of record, for Count.
type Kind string

// The kinds of record.
const (
	Callbacks  Kind = "callbacks"
	Complaints Kind = "complaints"
	Surveys    Kind = "surveys"
)

// Backend is a store the runner writes and ops read: both Memory and
// flows/store's SQLite are one.
type Backend interface {
	Store
	Lister
}

// Filter selects records to list. The zero Filter selects all.
type Filter struct {
	Open   bool      // only callbacks not done, complaints not replied to
	Since  time.Time // only records with At at or after Since; zero: all
	Limit  int       // at most this many (the first in list order); 0: no limit
	Offset int       // skip this many of the records selected first (paging)
	Newest bool      // list newest first (the ops API's order); else oldest first
	CallID string    // only the records of this call; "": all
	// State: only complaints in this state; "": all. Callbacks and
	// survey answers have no state: it does not apply to them.
	State ComplaintState
}

// Validate checks f; the error wraps ErrInvalid.
func (f Filter) Validate() error {
	switch {
	case f.Limit < 0:
		return invalid("limit", "negative")
	case f.Offset < 0:
		return invalid("offset", "negative")
	case f.State != "" && !f.State.Valid():
		return invalid("state", "not recording, recorded or interrupted")
	case len(f.CallID) > MaxCallIDLen:
		return invalid("call_id", fmt.Sprintf("longer than %d bytes", MaxCallIDLen))
	}
	return nil
}

// Summary is the state of the records for the dashboard and CS-SLA
// figures. The open counts, Overdue and Interrupted are as of now, whatever since is;
// the other counts take the records with At at or after since.
type Summary struct {
	OpenCallbacks  int
	OpenComplaints int
	Overdue        int     // open complaints past their deadline at now
	Interrupted    int     // open complaints whose recording kefu's stopping cut short
	Complaints     int     // complaints since
	RepliedLate    int     // complaints since that were replied to after their deadline
	Surveys        int     // survey answers since
	MeanScore      float64 // their mean score; 0 when there are none
}

// normalize returns t as the stores keep it: UTC, microsecond resolution
// (what PostgreSQL keeps too), so a record read back equals the one Add
// returned.
func normalize(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}
