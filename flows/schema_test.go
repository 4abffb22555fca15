package flows

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestSchema(t *testing.T) {
	b, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Props       map[string]any `json:"properties"`
		Defs        map[string]any `json:"$defs"`
		AdditionalP *bool          `json:"additionalProperties"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"company", "timezone", "flows", "routes", "holidays", "louder", "answer_delay"} {
		if _, ok := s.Props[k]; !ok {
			t.Errorf("schema has no property %q", k)
		}
	}
	if s.AdditionalP == nil || *s.AdditionalP {
		t.Error("schema allows unknown keys; the loader does not")
	}
	step, ok := s.Defs["Step"].(map[string]any)
	if !ok {
		t.Fatalf("no Step definition in %v", s.Defs)
	}
	props := step["properties"].(map[string]any)
	for _, k := range []string{"listen", "say", "branch", "reject", "goto", "close"} {
		if _, ok := props[k]; !ok {
			t.Errorf("Step has no %q", k)
		}
	}
}

func TestMermaid(t *testing.T) {
	cfg, err := Parse("d.yaml", DefaultYAML())
	if err != nil {
		t.Fatal(err)
	}
	f, _ := cfg.Flow("hotline")
	m := f.Mermaid()
	for _, want := range []string{"flowchart TD", `s0["open: listen greet.tod +5s, greet.tod +5s, silent.apology +5s"]`, "s0 -->|speech| s1", "s0 -->|key| s2", "s0 -->|weak voice| s24", "s0 -->|noise| s25", "s0 -->|silent| end0((hang up))", "s1 --> s2", "s2 --> s7", "s2 -->|else| s3", "s3 -->|key 1| s5", "s5 -->|max wait| s14", "s5 -->|nobody to take it| s6", "s15 -->|confirmed| s16", "s17 -->|nothing said| s26", "s26 -->|more| s3"} {
		if !strings.Contains(m, want) {
			t.Errorf("diagram lacks %q:\n%s", want, m)
		}
	}
}

// TestVerbTable: every verb field of Step is in the table of verbs (its
// type implements verb, or stands for one), and every verb of the default
// configuration resolves, lists its exits and labels itself.
func TestVerbTable(t *testing.T) {
	other := map[string]bool{"Name": true, "Exception": true, "Next": true}
	st := reflect.TypeFor[Step]()
	var keys []string
	for _, f := range verbFields() {
		keys = append(keys, f.key)
	}
	for i := range st.NumField() {
		f := st.Field(i)
		if !f.IsExported() || other[f.Name] {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !slices.Contains(keys, key) {
			t.Errorf("Step.%s (%s) is not a verb: its type must implement verb (run, exits, check, label)", f.Name, key)
		}
	}
	want := []string{"say", "listen", "close", "hangup", "branch", "reject", "answer", "goto", "hold", "menu", "greet", "play", "collect", "record", "survey", "queue", "transfer"}
	if !slices.Equal(keys, want) {
		t.Errorf("verbs %v, want %v", keys, want)
	}
	cfg, err := Parse("default.yaml", DefaultYAML())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cfg.Flows {
		for _, s := range f.Steps {
			if s.v == nil || s.v.label() == "" || len(s.v.exits()) == 0 {
				t.Errorf("%s/%s: verb %v, label %q", f.Name(), s.Name, s.v, s.v.label())
			}
		}
	}
}
