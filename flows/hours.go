package flows

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/flows/calendar"
	"github.com/kefu-hotline/kefu/prompts"
)

// HoursDef is one window of the service hours: weekdays (mon..sun; every
// day when none) and a time of day, e.g. {weekday: [mon, tue, wed, thu,
// fri], time: "08:30-20:00"}.
type HoursDef struct {
	Weekday []string `yaml:"weekday"`
	Time    string   `yaml:"time"`
}

// validateHours reads the service hours (CS-AFTER-HOURS).
func (c *Config) validateHours(p *problems) {
	c.hours = nil
	for i, h := range c.ServiceHours {
		w, err := calendar.ParseWindow(h.Weekday, h.Time)
		if err != nil {
			p.at(fmt.Sprintf("$.service_hours[%d]", i), "service hours: %v", err)
			continue
		}
		c.hours = append(c.hours, w)
	}
}

// InService reports whether t is within the service hours (always, when
// the config has none).
func (c *Config) InService(t time.Time) bool { return c.hours.Open(t, c.loc) }

// NextOpen is when the service opens next after t (t when it is open).
func (c *Config) NextOpen(t time.Time) (time.Time, bool) { return c.hours.NextOpen(t, c.loc) }

// promptReopenTail ends the words that say when the service opens again
// (CS-AFTER-HOURS): 恢复服务.
const promptReopenTail = "afterhours.serve"

// sayReopen says when the service opens again, after the say's prompt:
// 「…我们将于」明天上午八点半「恢复服务。」 (en: "… tomorrow at eight thirty
// in the morning. …"), in full.
func (r *Runner) sayReopen(ctx context.Context) error {
	now := r.clock.Now()
	at, ok := r.cfg.NextOpen(now)
	if !ok || len(r.cfg.hours) == 0 {
		return nil // no hours set: nothing true to say
	}
	ids, err := reopenWords(r.cat, now.In(r.cfg.Location()), at.In(r.cfg.Location()))
	if err != nil {
		return err
	}
	for _, id := range append(ids, promptReopenTail) {
		p, ok := r.cat.Get(id)
		if !ok {
			return fmt.Errorf("reopening time: no prompt %s", id)
		}
		if _, err := r.playing(ctx, p.ID, p, whole); err != nil {
			return err
		}
	}
	return nil
}

// reopenWords are the prompt ids that say at (in the hotline's zone) as
// seen from now: the day (今天, 明天, 星期一), the part of the day, the hour
// and the minutes.
func reopenWords(cat *prompts.Catalog, now, at time.Time) ([]string, error) {
	var ids []string
	y1, m1, d1 := now.Date()
	y2, m2, d2 := at.Date()
	today := time.Date(y1, m1, d1, 0, 0, 0, 0, now.Location())
	switch day := time.Date(y2, m2, d2, 0, 0, 0, 0, at.Location()); {
	case day.Equal(today):
		ids = append(ids, "day.today")
	case day.Equal(today.AddDate(0, 0, 1)):
		ids = append(ids, "day.tomorrow")
	default:
		ids = append(ids, fmt.Sprintf("day.%d", (int(at.Weekday())+6)%7+1)) // Monday 1 … Sunday 7
	}
	h, m := at.Hour(), at.Minute()
	period := "time.evening"
	switch {
	case h < 5:
		period = "time.night"
	case h < 12:
		period = "time.morning"
	case h < 13:
		period = "time.noon"
	case h < 18:
		period = "time.afternoon"
	}
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	ids2 := func(ps []*prompts.Prompt) {
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
	}
	zh := strings.HasPrefix(cat.Lang(), "zh")
	if zh {
		ids = append(ids, period)
		ps, err := cat.Count(h12, "unit.oclock") // 两点, 一点 yì diǎn
		if err != nil {
			return nil, err
		}
		ids2(ps)
		ids = append(ids, "unit.oclock")
	} else { // en: the day's prompt ends in "at": "tomorrow at"
		ps, err := cat.Cardinal(h12)
		if err != nil {
			return nil, err
		}
		ids2(ps)
	}
	switch {
	case m == 30:
		ids = append(ids, "unit.half")
	case m > 0:
		if m < 10 {
			ids = append(ids, "digit.0") // 八点零五分
		}
		ps, err := cat.Cardinal(m)
		if err != nil {
			return nil, err
		}
		ids2(ps)
		if zh {
			ids = append(ids, "unit.fen")
		}
	}
	if !zh {
		ids = append(ids, period)
	}
	return ids, nil
}

// reopenPrompts are every prompt a reopening time may need, for the
// config check.
var reopenPrompts = []string{"day.today", "day.tomorrow", "day.1", "day.2", "day.3", "day.4", "day.5", "day.6", "day.7",
	"time.night", "time.morning", "time.noon", "time.afternoon", "time.evening", "unit.oclock", "unit.half", "unit.fen", promptReopenTail}
