package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/prompts"
)

// SimAgents makes the configuration's agents answer a simulated call:
// every agent is signed in, and the one offered the caller answers after
// AnswerAfter and hangs up after Talk (0: the caller hangs up first).
type SimAgents struct {
	AnswerAfter, Talk time.Duration
}

// useAgents gives the simulated call's bundle a board with every agent of
// the config signed in.
func (s *Simulation) useAgents(b *Bundle) error {
	as, rs := b.Config.Roster()
	if len(as) == 0 {
		return errors.New("simulated agents: the configuration has no agents (list them under agents)")
	}
	board, err := agents.NewBoard(b.Queues, as, rs, s.Now)
	if err != nil {
		return err
	}
	for _, a := range as {
		if a.Contact == "" {
			if err := board.SignIn(a.ID, "sip:"+a.ID+"@simulated"); err != nil {
				return err
			}
		}
	}
	b.Queues.Agents = board.Serving
	b.Agents = board
	return nil
}

// ringSim rings the first target: it answers after AnswerAfter, unless the
// caller hangs up first.
func (s *Simulation) ringSim(ctx context.Context, req RingRequest) (AgentLeg, []RingOutcome, error) {
	out := failedAll(req)
	for i := range out {
		out[i].Result = RingCancelled
	}
	t := req.Targets[0]
	if s.Agents.AnswerAfter >= req.Timeout {
		if err := s.sleep(ctx, req.Timeout, PlayOptions{}); err != nil {
			return nil, out, err
		}
		out[0].Result = RingNoAnswer
		return nil, out, nil
	}
	if err := s.sleep(ctx, s.Agents.AnswerAfter, PlayOptions{}); err != nil {
		return nil, out, err
	}
	out[0].Result = RingAnswered
	return &simLeg{s: s, id: t.ID}, out, nil
}

// simLeg is a simulated agent's call: the whisper is noted, the talk lasts
// SimAgents.Talk of virtual time.
type simLeg struct {
	s         *Simulation
	id        string
	whispered []string // the whisper's prompts, noted when the talk starts
}

func (l *simLeg) ID() string { return l.id }

// Whisper keeps the prompt: the agent hears it while the caller hears
// theirs, so it takes none of the call's time (and the timeline notes it
// when the talk starts, in one place whatever the goroutines' order).
func (l *simLeg) Whisper(_ context.Context, p *prompts.Prompt) error {
	l.whispered = append(l.whispered, p.ID)
	return nil
}

func (l *simLeg) Bridge(ctx context.Context, _ *prompts.Prompt) (string, error) {
	l.s.record(TraceEntry{At: l.s.Now(), What: "whisper", Detail: fmt.Sprintf("agent %s heard %s", l.id, strings.Join(l.whispered, " "))})
	talk := l.s.Agents.Talk
	if talk <= 0 {
		talk = 24 * time.Hour
	}
	return "", l.s.sleep(ctx, talk, PlayOptions{})
}

func (l *simLeg) Hangup() {}
