// Package calendar decides what a call's opening says for the moment it is
// answered (CS-GREET-*): the time-of-day period (CS-GREET-TOD), the
// statutory holidays with their lunar dates for 1900–2100 and the ops
// notices that override them (CS-GREET-HOLIDAY), and the apology for a
// caller who waited (CS-GREET-BUSY). Everything is evaluated in the
// caller-facing time zone, whatever the server's zone is.
package calendar

import "time"

// Period is a part of the day with its own greeting.
type Period uint8

// The periods of CS-GREET-TOD. Other is the rest of the day (您好).
const (
	Other     Period = iota // 22:00–08:30
	Morning                 // 08:30–12:00
	Afternoon               // 12:00–17:00
	Evening                 // 17:00–22:00
)

// String names the period as its greeting prompt's suffix.
func (p Period) String() string {
	switch p {
	case Morning:
		return "morning"
	case Afternoon:
		return "afternoon"
	case Evening:
		return "evening"
	default:
		return "default"
	}
}

// PeriodAt returns the period of t in loc. A boundary instant belongs to
// the later period: 12:00:00 is afternoon.
func PeriodAt(t time.Time, loc *time.Location) Period {
	l := t.In(loc)
	min := l.Hour()*60 + l.Minute()
	switch {
	case min >= 22*60:
		return Other
	case min >= 17*60:
		return Evening
	case min >= 12*60:
		return Afternoon
	case min >= 8*60+30:
		return Morning
	default:
		return Other
	}
}
