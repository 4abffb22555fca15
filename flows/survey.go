package flows

import (
	"context"
	"fmt"
	"sort"
	"time"

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

func (s *Survey) run(ctx context.Context, r *Runner) (string, error) {
	a, err := r.retry(ctx, orInt(s.Retries, 2), orStr(s.Invalid, "menu.invalid"), func(int) (answer, error) {
		h, err := r.playKeys(ctx, orStr(s.Prompt, "survey.ask"))
		if err != nil {
			return noAnswer, err
		}
		wait := s.Timeout.or(DefaultSilenceWait)
		if h, err = r.waitKey(ctx, h, wait, keyWaitNote(wait)); err != nil || h.key == 0 {
			return noAnswer, err
		}
		score, ok := s.scores()[string(h.key)]
		if !ok {
			return wrongAnswer, nil
		}
		if err := r.saveSurvey(ctx, s, string(h.key), score); err != nil {
			return noAnswer, err
		}
		_, err = r.play(ctx, orStr(s.Thanks, "survey.thanks"))
		return gotAnswer, err
	})
	if err == nil && a != gotAnswer {
		r.note("survey", "no answer")
	}
	return "", err
}

func (s *Survey) exits() []exit { return onward }

func (s *Survey) check(sc *stepCheck) {
	for _, k := range s.keys() {
		if !isPhoneKey(k) {
			sc.at("scores", "survey key %q is not a phone key (0-9 * # A-D)", k)
		}
		if v := s.scores()[k]; v < records.MinScore || v > records.MaxScore {
			sc.at("scores", "score %d for key %q: scores run from %d to %d", v, k, records.MinScore, records.MaxScore)
		}
	}
	sc.louderClash("scores", s.keys()...)
	sc.bound("timeout", s.Timeout, time.Minute)
}

func (s *Survey) checkPrompts(pc *promptCheck) {
	for _, id := range []string{orStr(s.Prompt, "survey.ask"), orStr(s.Thanks, "survey.thanks"), orStr(s.Invalid, "menu.invalid")} {
		pc.need(pc.path, id)
	}
}

func (s *Survey) label() string { return "survey" }

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
