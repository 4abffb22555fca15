package pgline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/kefu-hotline/kefu/flows/agents"
)

// agentRow is one agent's shared state, a row of kefu_line_agents. Its
// transitions are the board's (flows/agents presence.go and offer.go),
// applied to the row a node read and written back only if nobody wrote
// it meanwhile (ver).
type agentRow struct {
	ID                         string
	State                      agents.State
	Reason                     string
	Since, SignedIn, LastEnded time.Time
	CallID, CallQueue          string
	Calls, Day, Missed         int
	Then, ThenReason           string // "offline" or "paused" when the offer or call ends
	Contact                    string // the registered contact
	Registered                 bool
	WrapUntil                  time.Time
	Node                       string // the node ringing or bridging the agent
	Ver                        int64
}

const agentCols = `id, state, reason, since, signed_in, last_ended, call_id, call_queue, calls, day, missed,
	then_state, then_reason, contact, registered, wrap_until, node, ver`

func scanAgent(row pgx.Row) (agentRow, error) {
	var a agentRow
	var st int16
	err := row.Scan(&a.ID, &st, &a.Reason, &a.Since, &a.SignedIn, &a.LastEnded, &a.CallID, &a.CallQueue,
		&a.Calls, &a.Day, &a.Missed, &a.Then, &a.ThenReason, &a.Contact, &a.Registered, &a.WrapUntil, &a.Node, &a.Ver)
	a.State = agents.State(st)
	for _, t := range []*time.Time{&a.Since, &a.SignedIn, &a.LastEnded, &a.WrapUntil} {
		if t.Equal(epoch) {
			*t = time.Time{}
		}
	}
	return a, err
}

// readAgents reads every agent's row, by id.
func readAgents(ctx context.Context, q querier) (map[string]agentRow, error) {
	rows, err := q.Query(ctx, `SELECT `+agentCols+` FROM kefu_line_agents`)
	if err != nil {
		return nil, fmt.Errorf("line: agents: %w", err)
	}
	out := map[string]agentRow{}
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("line: agents: %w", err)
		}
		out[a.ID] = a
	}
	return out, rows.Err()
}

// writeAgent writes a back over the version it was read at; false when
// another write came first.
func writeAgent(ctx context.Context, q querier, a agentRow) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE kefu_line_agents SET state=$2, reason=$3, since=$4, signed_in=$5, last_ended=$6,
	call_id=$7, call_queue=$8, calls=$9, day=$10, missed=$11, then_state=$12, then_reason=$13, contact=$14,
	registered=$15, wrap_until=$16, node=$17, ver=ver+1
WHERE id=$1 AND ver=$18`, a.ID, int16(a.State), a.Reason, stamp(a.Since), stamp(a.SignedIn), stamp(a.LastEnded), a.CallID, a.CallQueue,
		a.Calls, a.Day, a.Missed, a.Then, a.ThenReason, a.Contact, a.Registered, stamp(a.WrapUntil), a.Node, a.Ver)
	if err != nil {
		return false, fmt.Errorf("line: agent %s: %w", a.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// epoch stands for the zero time in the table's NOT NULL columns.
var epoch = time.Unix(0, 0).UTC()

// stamp is t for a timestamptz column: epoch for the zero time.
func stamp(t time.Time) time.Time {
	if t.IsZero() {
		return epoch
	}
	return t
}

// querier is a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// contact is where offers go: the registered contact, else fixed.
func (a *agentRow) contact(fixed string) string {
	if a.Registered {
		return a.Contact
	}
	return fixed
}

// idleSince is when the agent last became free of calls.
func (a *agentRow) idleSince() time.Time {
	if a.LastEnded.After(a.SignedIn) {
		return a.LastEnded
	}
	return a.SignedIn
}

// callsOn is the agent's answered calls on the day of now.
func (a *agentRow) callsOn(now time.Time) int {
	if a.Day != dayOf(now) {
		return 0
	}
	return a.Calls
}

func dayOf(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// set moves a to state s at now, as Board.set does.
func (a *agentRow) set(s agents.State, now time.Time) {
	if s != agents.Paused {
		a.Reason = ""
	}
	if s != agents.Ringing && s != agents.OnCall {
		a.CallID, a.CallQueue, a.Node = "", "", ""
	}
	a.State, a.Since = s, now
}

// signIn makes a signed-out agent available.
func (a *agentRow) signIn(now time.Time) {
	a.SignedIn, a.Missed = now, 0
	a.set(agents.Available, now)
}

// goOffline signs the agent out now, or when its offer or call ends.
func (a *agentRow) goOffline(now time.Time) {
	if a.State == agents.Ringing || a.State == agents.OnCall {
		a.Then, a.ThenReason = thenOffline, ""
		return
	}
	a.set(agents.Offline, now)
}

// The states an agent goes to when the offer or call in progress ends.
const (
	thenOffline = "offline"
	thenPaused  = "paused"
)

// settle frees an agent whose offer or call ended without a new call:
// Offline if signed out meanwhile or no longer configured, Paused if
// asked to or if pause is set, else Available.
func (a *agentRow) settle(now time.Time, pause string, configured bool) {
	switch {
	case !configured:
		a.set(agents.Offline, now)
	case a.Then == thenOffline:
		a.set(agents.Offline, now)
	case a.Then == thenPaused:
		a.set(agents.Paused, now)
		a.Reason = a.ThenReason
	case pause != "":
		a.set(agents.Paused, now)
		a.Reason = pause
	default:
		a.set(agents.Available, now)
	}
	a.Then, a.ThenReason = "", ""
}

// endCall ends the agent's bridged call at now, as Board.Ended: wrap-up
// for wrap (until WrapUntil, ended by the next decision after it), then
// Available; Offline or Paused at once when asked for during the call,
// when no longer configured, or with no wrap-up. It returns the wrap-up
// begun, 0 for none.
func (a *agentRow) endCall(now time.Time, wrap time.Duration, configured bool) time.Duration {
	a.LastEnded = now
	if !configured || a.Then != "" || wrap <= 0 {
		a.settle(now, "", configured)
		return 0
	}
	a.set(agents.WrapUp, now)
	a.WrapUntil = now.Add(wrap)
	return wrap
}

// wrapUp is the wrap-up after a call of the named queue.
func wrapUp(rules map[string]agents.Rules, queueName string) time.Duration {
	if r, ok := rules[queueName]; ok {
		return r.WrapUp
	}
	return agents.DefaultWrapUp
}

// status is the agent as the ops API shows them.
func (a *agentRow) status(cfg agents.Agent, now time.Time) agents.Status {
	s := agents.Status{
		ID: a.ID, Name: cfg.Name, State: a.State, Reason: a.Reason, Contact: a.contact(cfg.Contact), Registered: a.Registered,
		Queues: append([]agents.Membership{}, cfg.Queues...), CallID: a.CallID, Queue: a.CallQueue, Since: a.Since,
		CallsToday: a.callsOn(now), Missed: a.Missed, LastEnded: a.LastEnded, Then: a.Then,
	}
	return s
}
