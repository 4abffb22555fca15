package records

import (
	"context"
	"time"
)

// FollowUpWithin is how soon after a complaint is resolved its follow-up
// call is due (CS-FOLLOWUP: 问题解决后24小时内回访).
const FollowUpWithin = 24 * time.Hour

// FollowUpSurvey is the survey name a follow-up's answer is stored under.
const FollowUpSurvey = "followup"

// FollowUp is the call kefu makes to a customer whose complaint ops
// resolved (CS-FOLLOWUP): it says the problem was dealt with and asks the
// survey question; the key pressed is stored with the complaint and as a
// survey answer.
type FollowUp struct {
	ID          int64
	ComplaintID int64
	Number      string    // the complaint's caller: who is called
	Resolved    time.Time // when ops marked the complaint resolved
	By          string    // who did
	Due         time.Time // Resolved + FollowUpWithin
	Attempts    int       // calls that did not reach the customer
	NotBefore   time.Time // the next call not before; zero: now
	// Outcome is how it ended: FollowUpAnswered (Key and Score when the
	// customer pressed one), FollowUpNoAnswer (the attempts or the day ran
	// out), FollowUpCancelled; "" while open.
	Outcome string
	Key     string
	Score   int
	DoneAt  time.Time
}

// The outcomes of a follow-up.
const (
	FollowUpAnswered  = "answered"
	FollowUpNoAnswer  = "no_answer"
	FollowUpCancelled = "cancelled"
)

// FollowUpBook keeps the follow-up calls: flows/store on SQLite, Memory
// for tests.
type FollowUpBook interface {
	// ResolveComplaint marks complaint id resolved at at by by (and
	// replied to, if it was not) and adds its follow-up, due within
	// FollowUpWithin; resolving it again returns the follow-up it has.
	// ErrNotFound when there is no such complaint, ErrInvalid when its
	// caller's number is withheld (nobody to call).
	ResolveComplaint(ctx context.Context, id int64, at time.Time, by string) (FollowUp, error)
	// PendingFollowUps lists the open follow-ups, the first due first.
	PendingFollowUps(ctx context.Context) ([]FollowUp, error)
	// FollowUpTried records a call that did not reach the customer: one
	// more attempt, the next not before notBefore.
	FollowUpTried(ctx context.Context, id int64, notBefore time.Time) error
	// FinishFollowUp closes follow-up id with outcome at at; answered
	// with a key, the key and its score are kept, and stored as a survey
	// answer (FollowUpSurvey) of the complaint's caller. A closed
	// follow-up stays as it is.
	FinishFollowUp(ctx context.Context, id int64, outcome string, at time.Time, key string, score int) error
}
