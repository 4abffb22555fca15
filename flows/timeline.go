package flows

import (
	"sort"

	"github.com/kefu-hotline/kefu/prompts"
)

// TimelineEntry is one line of a simulated call's timeline as people read
// it (kefu simulate, the ops console): seconds from the answer, what
// happened, and for a prompt its text and when it stopped.
type TimelineEntry struct {
	T      float64 `json:"t"`
	What   string  `json:"what"`
	Detail string  `json:"detail"`
	Text   string  `json:"text,omitempty"`
	End    float64 `json:"end,omitempty"`
}

// Timeline folds each prompt's start and end in the trace into one "say"
// entry with its text (from cat), and keeps waits, events, steps and
// hang-ups as they are, in time order.
func (s *Simulation) Timeline(cat *prompts.Catalog) []TimelineEntry {
	var out []TimelineEntry
	open := map[string]int{}
	for _, e := range s.Trace {
		t := s.Elapsed(e.At).Seconds()
		switch e.What {
		case "prompt_start":
			text := ""
			if p, ok := cat.Get(e.Detail); ok {
				text = cat.Render(p, nil)
			}
			open[e.Detail] = len(out)
			out = append(out, TimelineEntry{T: t, What: "say", Detail: e.Detail, Text: text})
		case "prompt_end":
			if i, ok := open[e.Detail]; ok {
				out[i].End = t
				delete(open, e.Detail)
			}
		default:
			out = append(out, TimelineEntry{T: t, What: e.What, Detail: e.Detail})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].T < out[j].T })
	return out
}
