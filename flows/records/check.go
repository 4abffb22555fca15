package records

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on the fields of a record, in bytes.
const (
	MaxCallIDLen    = 256
	MaxTextLen      = 128 // caller, reason, queue, class, survey, flow, version
	MaxRecordingLen = 512
	MinNumberLen    = 3 // digits of a callback number ("110" is the shortest real one)
	MaxNumberLen    = 32
)

// ValidationError is a record field the stores refuse; it wraps
// ErrInvalid. Its message never shows the value (it may be a number).
type ValidationError struct {
	Field string // the Go field name, or "limit", "id", "at"
	Msg   string
}

// Error returns "field: message".
func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(field, msg string) error { return &ValidationError{Field: field, Msg: msg} }

// PrepareCallback checks a new callback and returns it as a store keeps
// it. Number is required (MinNumberLen to MaxNumberLen digits, an
// optional leading '+'), At too; Done and DoneAt must be unset: a new
// callback is open. The error is a *ValidationError.
func PrepareCallback(c Callback) (Callback, error) {
	if err := checkNumber("Number", c.Number); err != nil {
		return Callback{}, err
	}
	if err := checkCommon(c.CallID, c.Caller, c.At); err != nil {
		return Callback{}, err
	}
	if err := checkTexts("Reason", c.Reason, "Queue", c.Queue); err != nil {
		return Callback{}, err
	}
	if c.Done || !c.DoneAt.IsZero() || c.Outcome != "" || c.DoneBy != "" {
		return Callback{}, invalid("Done", "a new callback is open")
	}
	if c.Joined.After(c.At) {
		return Callback{}, invalid("Joined", "after the callback was left")
	}
	c.ID = 0
	c.At, c.Joined = normalize(c.At), normalize(c.Joined)
	return c, nil
}

// PrepareComplaint checks a new complaint and returns it as a store keeps
// it: a zero Deadline becomes At + DefaultReplyWithin, an empty State
// Recorded. At is required, Deadline may not be before it, Recording is ""
// or a local path (relative, inside the data directory), Duration is not
// negative, and Replied and RepliedAt are unset. The error is a
// *ValidationError.
func PrepareComplaint(c Complaint) (Complaint, error) {
	if err := checkCommon(c.CallID, c.Caller, c.At); err != nil {
		return Complaint{}, err
	}
	if err := checkTexts("Class", c.Class); err != nil {
		return Complaint{}, err
	}
	if c.Deadline.IsZero() {
		c.Deadline = c.At.Add(DefaultReplyWithin)
	}
	if c.State == "" {
		c.State = Recorded
	}
	switch {
	case c.Deadline.Before(c.At):
		return Complaint{}, invalid("Deadline", "before the complaint")
	case !c.State.Valid():
		return Complaint{}, invalid("State", "not recording, recorded or interrupted")
	case c.Replied || !c.RepliedAt.IsZero() || c.RepliedBy != "":
		return Complaint{}, invalid("Replied", "a new complaint is unanswered")
	}
	if err := checkRecording(c.Recording, c.Duration); err != nil {
		return Complaint{}, err
	}
	c.ID = 0
	c.At, c.Deadline = normalize(c.At), normalize(c.Deadline)
	c.Duration = c.Duration.Truncate(time.Microsecond)
	return c, nil
}

// PrepareEnd checks the arguments of FinishComplaint and DropComplaint
// (drop: end is not used) and returns end as a store keeps it. An id no
// store hands out is ErrNotFound; end's State must be Recorded or
// Interrupted, its Recording and Duration as PrepareComplaint wants them.
func PrepareEnd(id int64, end ComplaintEnd, drop bool) (ComplaintEnd, error) {
	if id <= 0 {
		return ComplaintEnd{}, ErrNotFound
	}
	if drop {
		return ComplaintEnd{}, nil
	}
	if end.State != Recorded && end.State != Interrupted {
		return ComplaintEnd{}, invalid("State", "a recording ends recorded or interrupted")
	}
	if err := checkRecording(end.Recording, end.Duration); err != nil {
		return ComplaintEnd{}, err
	}
	end.Duration = end.Duration.Truncate(time.Microsecond)
	return end, nil
}

// checkRecording checks a complaint's recording path and duration.
func checkRecording(path string, d time.Duration) error {
	switch {
	case len(path) > MaxRecordingLen:
		return invalid("Recording", "too long")
	case path != "" && (!filepath.IsLocal(path) || !utf8.ValidString(path)):
		return invalid("Recording", "not a path inside the data directory")
	case d < 0:
		return invalid("Duration", "negative")
	}
	return nil
}

// PrepareSurvey checks a survey answer and returns it as a store keeps
// it. Survey and At are required, Score is MinScore..MaxScore, Key is ""
// or one DTMF key. The error is a *ValidationError.
func PrepareSurvey(a SurveyAnswer) (SurveyAnswer, error) {
	if err := checkCommon(a.CallID, a.Caller, a.At); err != nil {
		return SurveyAnswer{}, err
	}
	if a.Survey == "" {
		return SurveyAnswer{}, invalid("Survey", "required")
	}
	if err := checkTexts("Survey", a.Survey, "Flow", a.Flow, "Version", a.Version); err != nil {
		return SurveyAnswer{}, err
	}
	if a.Score < MinScore || a.Score > MaxScore {
		return SurveyAnswer{}, invalid("Score", "not between 1 and 9")
	}
	if a.Key != "" && (len(a.Key) != 1 || !strings.Contains("0123456789*#ABCD", a.Key)) {
		return SurveyAnswer{}, invalid("Key", "not a DTMF key")
	}
	a.ID = 0
	a.At = normalize(a.At)
	return a, nil
}

// CheckMark checks the arguments of MarkCallbackDone and
// MarkComplaintReplied and returns at as a store keeps it. An id no store
// hands out (zero or negative) is ErrNotFound. by, optional, is checked
// like the other texts.
func CheckMark(id int64, at time.Time, by ...string) (time.Time, error) {
	if at.IsZero() {
		return time.Time{}, invalid("at", "required")
	}
	for _, b := range by {
		if err := checkTexts("by", b); err != nil {
			return time.Time{}, err
		}
	}
	if id <= 0 {
		return time.Time{}, ErrNotFound
	}
	return normalize(at), nil
}

func checkCommon(callID, caller string, at time.Time) error {
	if at.IsZero() {
		return invalid("At", "required")
	}
	if len(callID) > MaxCallIDLen || !utf8.ValidString(callID) {
		return invalid("CallID", fmt.Sprintf("longer than %d bytes or not UTF-8", MaxCallIDLen))
	}
	return checkTexts("Caller", caller)
}

// checkTexts checks free-text fields given as name, value pairs.
func checkTexts(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v := pairs[i+1]; len(v) > MaxTextLen || !utf8.ValidString(v) {
			return invalid(pairs[i], fmt.Sprintf("longer than %d bytes or not UTF-8", MaxTextLen))
		}
	}
	return nil
}

func checkNumber(field, n string) error {
	digits := strings.TrimPrefix(n, "+")
	switch {
	case n == "":
		return invalid(field, "required")
	case len(digits) < MinNumberLen || len(digits) > MaxNumberLen:
		return invalid(field, fmt.Sprintf("not %d to %d digits", MinNumberLen, MaxNumberLen))
	case strings.Trim(digits, "0123456789") != "":
		return invalid(field, "not a phone number (digits only)")
	}
	return nil
}
