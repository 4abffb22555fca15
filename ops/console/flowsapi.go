package console

import (
	"net/http"
	"slices"
	"strings"
)

// flowJSON is one flow as the console draws it.
type flowJSON struct {
	Name    string `json:"name"`
	Steps   int    `json:"steps"`
	Mermaid string `json:"mermaid"` // the flowchart kefu simulate -diagram prints
}

// flowsJSON is the configuration in force, as the console shows it.
type flowsJSON struct {
	Version  string         `json:"version"`
	Company  string         `json:"company"`
	Language string         `json:"language"`
	Timezone string         `json:"timezone"`
	Routes   []routeJSON    `json:"routes"`
	Flows    []flowJSON     `json:"flows"`
	Queues   []string       `json:"queues"`
	Agents   []agentDefJSON `json:"agents"`
	// Exceptions are the steps that depart from a call-script rule, with
	// their reasons (kefu check prints them).
	Exceptions []string `json:"exceptions"`
	// Checkable: the console can check the file (GET /console/api/check).
	Checkable bool `json:"checkable"`
}

// routeJSON is a route: calls to To from From go to Flow.
type routeJSON struct {
	To   string `json:"to"`
	From string `json:"from"`
	Flow string `json:"flow"`
}

// agentDefJSON is a configured agent, without their password.
type agentDefJSON struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Queues []string `json:"queues"`
}

func (c *Console) flows(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		writeJSON(w, http.StatusBadRequest, errorJSON{"this endpoint takes no parameters"})
		return
	}
	b := c.cfg.Current()
	cfg := b.Config
	out := flowsJSON{Version: b.Version, Company: cfg.Company, Language: cfg.Language, Timezone: cfg.Timezone,
		Routes: []routeJSON{}, Flows: []flowJSON{}, Queues: []string{}, Agents: []agentDefJSON{},
		Exceptions: cfg.Exceptions(), Checkable: c.cfg.Check != nil}
	for _, rt := range cfg.Routes {
		out.Routes = append(out.Routes, routeJSON{To: rt.To, From: rt.From, Flow: rt.Flow})
	}
	if out.Exceptions == nil {
		out.Exceptions = []string{}
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range cfg.Flows {
			if !yield(n) {
				return
			}
		}
	}) {
		f := cfg.Flows[name]
		out.Flows = append(out.Flows, flowJSON{Name: name, Steps: len(f.Steps), Mermaid: f.Mermaid()})
	}
	for _, q := range cfg.QueueDefs {
		out.Queues = append(out.Queues, q.Name)
	}
	for _, a := range cfg.Agents {
		d := agentDefJSON{ID: a.ID, Name: a.Name, Queues: []string{}}
		for _, m := range a.Queues {
			d.Queues = append(d.Queues, m.Queue)
		}
		out.Agents = append(out.Agents, d)
	}
	writeJSON(w, http.StatusOK, out)
}

// checkJSON is the configuration file checked as kefu check checks it.
type checkJSON struct {
	OK bool `json:"ok"`
	// Version is the file's; Running the one in force. They differ when
	// the file changed since the last reload.
	Version    string   `json:"version,omitempty"`
	Running    string   `json:"running"`
	Errors     []string `json:"errors"`
	Exceptions []string `json:"exceptions"`
}

func (c *Console) check(w http.ResponseWriter, r *http.Request) {
	if c.cfg.Check == nil {
		writeJSON(w, http.StatusNotFound, errorJSON{"this kefu cannot check its configuration file"})
		return
	}
	out := checkJSON{Running: c.cfg.Current().Version, Errors: []string{}, Exceptions: []string{}}
	b, err := c.cfg.Check()
	if err != nil {
		out.Errors = strings.Split(strings.TrimSpace(err.Error()), "\n")
	} else {
		out.OK, out.Version = true, b.Version
		if ex := b.Config.Exceptions(); ex != nil {
			out.Exceptions = ex
		}
	}
	writeJSON(w, http.StatusOK, out)
}
