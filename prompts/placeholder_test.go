package prompts

import (
	"strings"
	"testing"
)

func TestPlaceholders(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		c, err := LoadEmbedded(lang)
		if err != nil {
			t.Fatal(err)
		}
		if c.Company() != "卓达社区网中心" {
			t.Errorf("%s: recorded for %q", lang, c.Company())
		}
		g, _ := c.Get("greet.afternoon")
		if !strings.Contains(g.Text, "{company}") || !strings.Contains(c.Render(g, nil), c.Var("company")) {
			t.Errorf("%s: %q renders as %q", lang, g.Text, c.Render(g, nil))
		}
		// {title} is left out when unknown, filled when known.
		a, _ := c.Get("hold.apology")
		if r := c.Render(a, nil); strings.Contains(r, "{") {
			t.Errorf("%s: %q", lang, r)
		}
		if r := c.Render(a, map[string]string{"title": "王先生,"}); !strings.HasPrefix(r, "王先生,") {
			t.Errorf("%s: %q", lang, r)
		}
		// {number} is composed after the recording from the digit pieces.
		ps, err := c.Compose("notours", map[string]string{"number": "10086"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 6 || ps[0].ID != "notours" || ps[1].ID != "digit.1" && ps[1].ID != "digit.yao" || ps[2].ID != "digit.0" {
			var ids []string
			for _, p := range ps {
				ids = append(ids, p.ID)
			}
			t.Errorf("%s: composed %v", lang, ids)
		}
		if _, err := c.Compose("notours", nil); err == nil {
			t.Errorf("%s: composing without a number: no error", lang)
		}
		if ps, err := c.Compose("ack", nil); err != nil || len(ps) != 1 {
			t.Errorf("%s: a prompt without placeholders composes to itself: %v %v", lang, ps, err)
		}
	}
}
