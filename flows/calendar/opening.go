package calendar

import "time"

// DefaultBusyThreshold is how long a caller may wait (in kefu's queue or
// ringing) before the opening becomes the apology of CS-GREET-BUSY.
const DefaultBusyThreshold = 15 * time.Second

// Prompt IDs of the openings. A holiday's is PromptPrefix+Holiday.String(),
// a period's PromptPrefix+Period.String().
const (
	// PromptPrefix starts the ID of every opening prompt.
	PromptPrefix = "greet."
	// PromptBusy is the apology for a caller who waited (CS-GREET-BUSY).
	PromptBusy = PromptPrefix + "busy"
)

// Opening returns the ID of the prompt that opens a call answered at t
// after the caller waited for waited:
//
//   - PromptBusy (greet.busy) when waited ≥ busyThreshold (CS-GREET-BUSY),
//     even on a holiday: the apology comes first;
//   - on a holiday (CS-GREET-HOLIDAY) greet.newyear (除夕, 春节),
//     greet.newyearday (元旦), greet.labourday (劳动节), greet.dragonboat
//     (端午), greet.midautumn or greet.nationalday; 清明 has none;
//   - else greet.morning, greet.afternoon, greet.evening or greet.default
//     by the period of t (CS-GREET-TOD).
//
// Dates and periods are taken in the calendar's zone. A busyThreshold of
// zero or less means DefaultBusyThreshold.
func (c *Calendar) Opening(t time.Time, waited, busyThreshold time.Duration) string {
	if busyThreshold <= 0 {
		busyThreshold = DefaultBusyThreshold
	}
	if waited >= busyThreshold {
		return PromptBusy
	}
	if h := c.HolidayAt(t); h != None {
		return PromptPrefix + h.String()
	}
	return PromptPrefix + PeriodAt(t, c.loc).String()
}

// OpeningPrompts returns the ID of every prompt Opening can return, so that
// a flow can check at load time that its prompt set has them all.
func OpeningPrompts() []string {
	ids := []string{PromptBusy}
	for _, h := range precedence {
		ids = append(ids, PromptPrefix+h.String())
	}
	for _, p := range []Period{Morning, Afternoon, Evening, Other} {
		ids = append(ids, PromptPrefix+p.String())
	}
	return ids
}
