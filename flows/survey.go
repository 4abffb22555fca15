package flows

import (
	"context"
	"fmt"
	"sort"

	"github.com/kefu-hotline/kefu/flows/records"
)

// Survey asks the caller to rate the service by key (CS-SURVEY) and stores
// the answer. No key, or a key that is no score, is asked again up to
// Retries; then the flow goes on without an answer.
type Survey struct {
	Name    string         `yaml:"name"`    // the survey's name in the records; default satisfaction
	Prompt  string         `yaml:"prompt"`  // default survey.ask
	Scores  map[string]int `yaml:"scores"`  // key → score (1-9); default 1→3 satisfied, 2→2 fair, 3→1 not satisfied
	Thanks  string         `yaml:"thanks"`  // default survey.thanks
	Invalid string         `yaml:"invalid"` // default menu.invalid
	Timeout *Duration      `yaml:"timeout"` // for a key after the prompt; default 5s
	Retries int            `yaml:"retries"` // tries in all; default 2
}

// DefaultSurveyScores are the scores of the default survey prompt: 满意请按1,
// 一般请按2, 不满意请按3.
var DefaultSurveyScores = map[string]int{"1": 3, "2": 2, "3": 1}

func (s *Survey) scores() map[string]int {
	if len(s.Scores) == 0 {
		return DefaultSurveyScores
	}
	return s.Scores
}

// keys lists the survey's keys in order, for checks and docs.
func (s *Survey) keys() []string {
	var out []string
	for k := range s.scores() {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// survey runs the survey verb.
func (r *Runner) survey(ctx context.Context, s *Survey) (string, error) {
	invalid := false
	for range orInt(s.Retries, 2) {
		if invalid {
			if _, err := r.play(ctx, orStr(s.Invalid, "menu.invalid")); err != nil {
				return "", err
			}
		}
		h, err := r.playKeys(ctx, orStr(s.Prompt, "survey.ask"))
		if err != nil {
			return "", err
		}
		if h.key == 0 {
			r.note("wait", "key "+s.Timeout.or(DefaultSilenceWait).String())
			if h, err = r.pause(ctx, s.Timeout.or(DefaultSilenceWait), func(h heard) bool { return h.key != 0 }); err != nil {
				return "", err
			}
		}
		if h.key == 0 {
			invalid = false
			continue
		}
		score, ok := s.scores()[string(h.key)]
		if !ok {
			invalid = true
			continue
		}
		if err := r.saveSurvey(ctx, s, string(h.key), score); err != nil {
			return "", err
		}
		_, err = r.play(ctx, orStr(s.Thanks, "survey.thanks"))
		return "", err
	}
	r.note("survey", "no answer")
	return "", nil
}

func (r *Runner) saveSurvey(ctx context.Context, s *Survey, key string, score int) error {
	a := records.SurveyAnswer{CallID: r.info.CallID, Caller: r.info.Caller, Survey: orStr(s.Name, "satisfaction"),
		Score: score, Key: key, At: r.clock.Now(), Flow: r.flow.Name(), Version: r.info.Version}
	if r.records == nil {
		r.log.Warn("no store for survey answers: the answer is only logged", "survey", a.Survey, "score", score)
		return nil
	}
	saved, err := r.records.AddSurvey(context.WithoutCancel(ctx), a)
	if err != nil {
		return fmt.Errorf("store survey answer: %w", err)
	}
	r.Result.Survey = saved.ID
	r.note("stored", fmt.Sprintf("survey %d: key %s, score %d", saved.ID, key, score))
	return nil
}
