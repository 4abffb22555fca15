package flows

import (
	"strings"
	"testing"
)

// FuzzParse: the whole configuration file as ops write it, the embedded
// default among the seeds. Beyond not panicking: a refusal names the
// file (ops find the line), and a configuration accepted once is accepted
// again the same (parsing keeps no state).
func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	f.Add([]byte("routes:\n  - to: \"*\"\n    flow: f\nflows:\n  f:\n    steps:\n      - name: hi\n        say: {prompt: greet.tod}\n      - name: bye\n        hangup: {}\n"))
	f.Add([]byte("answer_delay: 1h\nmedia_timeout: -5s\nlouder: {key: \"**\", step_db: 1e309}\n"))
	f.Add([]byte("flows: &a\n  x: *a\n"))
	f.Add([]byte("flows:\n  f:\n    steps:\n      - {name: a, goto: a}\n"))
	f.Add([]byte("\t- [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			return
		}
		if _, err := Parse("fuzz.yaml", data); err != nil {
			t.Fatalf("accepted once, refused again: %v", err)
		}
		if len(cfg.Flows) == 0 || len(cfg.Routes) == 0 {
			t.Fatalf("accepted without flows or routes: %d flows, %d routes", len(cfg.Flows), len(cfg.Routes))
		}
	})
}

// FuzzParseSteps: the steps of the default configuration's hotline flow
// are replaced by the fuzz input (block YAML, indented into place), the
// rest of the file staying valid, so that the fuzzer works on step
// decoding: the verbs and their options, names, outcomes, the references
// between steps and the call-script lint. The seeds are the default's own
// flows. Beyond not panicking: a refusal names the file, and every step
// of an accepted flow has a name.
func FuzzParseSteps(f *testing.F) {
	head, flows, tail := splitHotline(f)
	for _, steps := range flows {
		f.Add(steps)
	}
	f.Add("- name: a\n  goto: a\n")
	f.Add("- {}\n- null\n- [1]\n")
	f.Fuzz(func(t *testing.T, steps string) {
		var b strings.Builder
		b.WriteString(head)
		for line := range strings.Lines(steps) {
			b.WriteString("      " + line)
		}
		if !strings.HasSuffix(steps, "\n") {
			b.WriteString("\n")
		}
		b.WriteString(tail)
		cfg, err := Parse("fuzz.yaml", []byte(b.String()))
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("an error that does not name the file: %v", err)
			}
			return
		}
		for name, fl := range cfg.Flows {
			if fl == nil {
				t.Fatalf("flow %s accepted empty", name)
			}
			for i, s := range fl.Steps {
				if s == nil || s.Name == "" {
					t.Fatalf("flow %s: step %d accepted without a name: %+v", name, i, s)
				}
			}
		}
	})
}

// splitHotline cuts the default configuration around the steps of its
// hotline flow, and returns each of its flows' steps, unindented.
func splitHotline(f *testing.F) (head string, flows []string, tail string) {
	def := string(DefaultYAML())
	const open = "\n  hotline:\n    steps:\n"
	i := strings.Index(def, open)
	if i < 0 {
		f.Fatal("no hotline flow in the default configuration")
	}
	head = def[:i+len(open)]
	rest := def[i+len(open):]
	j := strings.Index(rest, "\n  nuisance:\n")
	if j < 0 {
		f.Fatal("no nuisance flow after the hotline in the default configuration")
	}
	tail = rest[j+1:]
	for _, block := range strings.Split(def[strings.Index(def, "\nflows:\n"):], "    steps:\n")[1:] {
		var steps strings.Builder
		for line := range strings.Lines(block) {
			if !strings.HasPrefix(line, "      ") && strings.TrimSpace(line) != "" {
				break
			}
			steps.WriteString(strings.TrimPrefix(line, "      "))
		}
		flows = append(flows, steps.String())
	}
	return head, flows, tail
}
