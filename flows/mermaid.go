package flows

import (
	"fmt"
	"strings"
)

// Mermaid renders a flow as a Mermaid flowchart, for docs and the
// dashboard: one node per step (its verb and prompt), one edge per exit.
func (f *Flow) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	id := func(i int) string { return fmt.Sprintf("s%d", i) }
	for i, s := range f.Steps {
		fmt.Fprintf(&b, "  %s[\"%s: %s\"]\n", id(i), s.Name, s.v.label())
	}
	for i, s := range f.Steps {
		for _, e := range s.v.exits() {
			arrow := "-->"
			if e.label != "" {
				arrow = "-->|" + e.label + "|"
			}
			if e.end != "" {
				fmt.Fprintf(&b, "  %s %s end%d((%s))\n", id(i), arrow, i, e.end)
				continue
			}
			if j, ok := f.index[f.target(i, e)]; ok {
				fmt.Fprintf(&b, "  %s %s %s\n", id(i), arrow, id(j))
			}
		}
	}
	return b.String()
}
