package prompts

import (
	"fmt"
	"strings"

	"github.com/kefu-hotline/kefu/prompts/internal/textfile"
)

// The placeholders of the text model. {company} is recorded into the
// prompts (the set's text file says for which company: "#! company = ...");
// {number} is composed at run time from the digit recordings; {title}
// (先生/女士) is left out when the caller's title is unknown, as CS-HOLD-APOLOGY
// allows.
const (
	VarCompany = "company"
	VarNumber  = "number"
	VarTitle   = "title"
)

// Var returns a value the set was recorded with (e.g. the company name).
func (c *Catalog) Var(name string) string { return c.vars[name] }

// Company returns the company the set was recorded for, in the language of
// the configuration (company.native when the set speaks it another way).
func (c *Catalog) Company() string {
	if n := c.vars[VarCompany+".native"]; n != "" {
		return n
	}
	return c.vars[VarCompany]
}

// Render returns a prompt's text with its placeholders filled: the
// recorded values first, then vars.
func (c *Catalog) Render(p *Prompt, vars map[string]string) string {
	all := map[string]string{}
	for k, v := range c.vars {
		all[k] = v
	}
	for k, v := range vars {
		all[k] = v
	}
	return textfile.Fill(p.Text, all)
}

// Compose returns what to play for a prompt with run-time values: the
// prompt, then, when its text ends in {number}, that number read digit by
// digit from the digit recordings (CS-NOT-OURS, CS-SYSTEM-DOWN read-back).
// A {number} anywhere else cannot be composed from one recording and is an
// error, as is a missing number.
func (c *Catalog) Compose(id string, vars map[string]string) ([]*Prompt, error) {
	p, ok := c.Get(id)
	if !ok {
		return nil, fmt.Errorf("prompts: no prompt %q in %s", id, c.lang)
	}
	text := strings.TrimRight(p.Text, "\u3002.!?\uff01\uff1f ")
	switch i := strings.Index(p.Text, "{"+VarNumber+"}"); {
	case i < 0:
		return []*Prompt{p}, nil
	case !strings.HasSuffix(text, "{"+VarNumber+"}"):
		return nil, fmt.Errorf("prompts: %s/%s: {number} must end the text to be composed after the recording", c.lang, id)
	}
	digits, err := c.Number(vars[VarNumber])
	if err != nil {
		return nil, fmt.Errorf("prompts: %s/%s: %w", c.lang, id, err)
	}
	return append([]*Prompt{p}, digits...), nil
}
