package flows

import (
	"fmt"
	"strings"
)

// Mermaid renders a flow as a Mermaid flowchart, for docs and the
// dashboard: one node per step (its verb and prompt), one edge per
// outcome.
func (f *Flow) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	id := func(i int) string { return fmt.Sprintf("s%d", i) }
	for i, s := range f.Steps {
		fmt.Fprintf(&b, "  %s[\"%s: %s\"]\n", id(i), s.Name, label(s))
	}
	edge := func(from int, to string, text string) {
		if j, ok := f.index[to]; ok {
			if text == "" {
				fmt.Fprintf(&b, "  %s --> %s\n", id(from), id(j))
			} else {
				fmt.Fprintf(&b, "  %s -->|%s| %s\n", id(from), text, id(j))
			}
		}
	}
	for i, s := range f.Steps {
		following := s.Next
		if following == "" && i+1 < len(f.Steps) {
			following = f.Steps[i+1].Name
		}
		switch {
		case s.Hangup != nil, s.Close != nil:
			fmt.Fprintf(&b, "  %s --> end%d((hang up))\n", id(i), i)
		case s.Reject != nil:
			fmt.Fprintf(&b, "  %s --> end%d((reject %d))\n", id(i), i, max(s.Reject.Code, 603))
		case s.Goto != "":
			edge(i, s.Goto, "")
		case s.Branch != nil:
			for _, c := range s.Branch.Cases {
				edge(i, c.Goto, caseLabel(c))
			}
			if s.Branch.Else != "" {
				edge(i, s.Branch.Else, "else")
			} else {
				edge(i, following, "else")
			}
		case s.Menu != nil:
			for k, to := range s.Menu.Choices {
				edge(i, to, "key "+k)
			}
			if s.Menu.OnTimeout != "" {
				edge(i, s.Menu.OnTimeout, "no key")
			}
			if s.Menu.OnInvalid != "" {
				edge(i, s.Menu.OnInvalid, "wrong keys")
			}
			if s.Menu.OnTimeout == "" || s.Menu.OnInvalid == "" {
				edge(i, following, "else")
			}
		case s.Transfer != nil:
			fmt.Fprintf(&b, "  %s --> end%d((transferred))\n", id(i), i)
			edge(i, orStr(s.Transfer.OnFail, following), "transfer failed")
		case s.Collect != nil, s.Record != nil, s.Queue != nil:
			for _, o := range s.outcomes() {
				edge(i, orStr(o.to, following), o.label)
			}
		case s.Listen != nil:
			l := s.Listen
			for _, o := range []struct{ to, text string }{{l.OnSpeech, "speech"}, {l.OnDigit, "key"}, {l.OnWeak, "weak voice"}, {l.OnNoise, "noise"}} {
				if o.to != "" {
					edge(i, o.to, o.text)
				}
			}
			if l.OnSilence != "" {
				edge(i, l.OnSilence, "silent")
			} else {
				fmt.Fprintf(&b, "  %s -->|silent| end%d((hang up))\n", id(i), i)
			}
		default:
			edge(i, following, "")
		}
	}
	return b.String()
}

func label(s *Step) string {
	switch {
	case s.Say != nil:
		return "say " + s.Say.Prompt
	case s.Listen != nil:
		var ps []string
		for _, a := range s.Listen.Attempts {
			ps = append(ps, fmt.Sprintf("%s +%v", a.Prompt, a.Wait.or(DefaultSilenceWait)))
		}
		return "listen " + strings.Join(ps, ", ")
	}
	return s.Verb()
}

func caseLabel(c Case) string {
	var parts []string
	for _, kv := range [][2]string{{"holiday", c.Holiday}, {"time", c.Time}, {"dates", c.Dates}, {"caller", c.Caller}, {"called", c.Called}, {"weekday", strings.Join(c.Weekday, " ")}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	if c.Anonymous != nil && *c.Anonymous {
		parts = append(parts, "anonymous")
	}
	return strings.NewReplacer(`"`, "'", "|", "/").Replace(strings.Join(parts, ", "))
}
