package flows

import (
	"context"
	"strings"

	"github.com/kefu-hotline/kefu/prompts"
)

// Say plays one prompt. A prompt whose text ends in {number} (CS-NOT-OURS:
// 「不好意思,请您拨打{number}。」) is followed by Number read digit by digit.
// play is another name for it.
type Say struct {
	Prompt string `yaml:"prompt"`
	Number string `yaml:"number"`
	// Whole marks a prompt the caller must hear in full (a promise, a
	// legal notice): the caller talking over it does not stop it. Other
	// prompts stop when the caller starts speaking (CS-LISTEN).
	Whole bool `yaml:"whole"`
	// Reopen follows the prompt with when the service opens again
	// (CS-AFTER-HOURS): 明天上午八点半, then afterhours.serve (恢复服务).
	Reopen bool `yaml:"reopen"`
}

// Greet is the greet verb: the opening the calendar picks for the moment
// and the caller's wait (CS-GREET-TOD, CS-GREET-HOLIDAY, CS-GREET-BUSY). It
// is a say of greet.tod.
type Greet struct{}

func (*Greet) settle() verb { return &Say{Prompt: GreetTOD} }

func (s *Say) run(ctx context.Context, r *Runner) (string, error) {
	if s.Number != "" {
		return "", r.sayNumber(ctx, s)
	}
	how := informs
	if s.Whole {
		how = whole
	}
	if s.Reopen {
		how = whole
	}
	h, err := r.playAs(ctx, s.Prompt, how)
	if err == nil && s.Reopen {
		err = r.sayReopen(ctx)
	}
	if h.keys != "" {
		// Keys pressed while kefu spoke: a menu right after takes them
		// (the caller who knows the menu does not wait for it).
		r.typed = h.keys
	}
	return "", err
}

func (s *Say) exits() []exit { return onward }

func (s *Say) check(sc *stepCheck) {
	if s.Prompt == "" {
		sc.at("", "say needs a prompt")
	}
}

func (s *Say) checkPrompts(pc *promptCheck) {
	pc.need(pc.path+".prompt", s.Prompt)
	if s.Reopen {
		for _, id := range reopenPrompts {
			pc.need(pc.path+".reopen", id)
		}
	}
	if pr, ok := pc.cat.Get(s.Prompt); ok && strings.Contains(pr.Text, "{"+prompts.VarNumber+"}") {
		if _, err := pc.cat.Compose(s.Prompt, map[string]string{prompts.VarNumber: s.Number}); err != nil {
			pc.at("", "%v: give the number to read with number: \"10086\"", err)
		}
	}
}

func (s *Say) lastSaid() string { return s.Prompt }

func (s *Say) label() string { return "say " + s.Prompt }

// sayNumber plays a prompt followed by a number read digit by digit, in
// full: a number cut short is no use.
func (r *Runner) sayNumber(ctx context.Context, s *Say) error {
	ps, err := r.cat.Compose(s.Prompt, map[string]string{prompts.VarNumber: s.Number})
	if err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := r.playing(ctx, p.ID, p, whole); err != nil {
			return err
		}
	}
	return nil
}
