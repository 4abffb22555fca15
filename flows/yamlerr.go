package flows

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// nodeError is a value the config's own decoders refuse, at its node.
type nodeError struct {
	line, col int
	msg       string
}

func (e *nodeError) Error() string { return e.msg }

// errAt is a decoding error about node n.
func errAt(n ast.Node, format string, args ...any) error {
	e := &nodeError{msg: fmt.Sprintf(format, args...)}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		e.line, e.col = tk.Position.Line, tk.Position.Column
	}
	return e
}

// located turns an error of the YAML decoder into file:line:column:
// message, the one format of every `kefu check` error, in words an
// operator can act on: a tab or a bad indentation is named as such, and an
// unknown key gets the closest known one.
func located(file string, data []byte, err error) error {
	line, col, msg := 0, 0, err.Error()
	var ne *nodeError
	var ye yaml.Error
	switch {
	case errors.As(err, &ne):
		line, col, msg = ne.line, ne.col, ne.msg
	case errors.As(err, &ye):
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line, col = tk.Position.Line, tk.Position.Column
		}
		msg = ye.GetMessage()
	}
	msg = explain(msg, lineOf(data, line), col)
	if line == 0 {
		return fmt.Errorf("%s: %s", file, msg)
	}
	return fmt.Errorf("%s:%d:%d: %s", file, line, col, msg)
}

// lineOf returns line n (1-based) of data, or "".
func lineOf(data []byte, n int) string {
	if n < 1 {
		return ""
	}
	lines := strings.Split(string(data), "\n")
	if n > len(lines) {
		return ""
	}
	return lines[n-1]
}

// explain says what a decoder message means for the line it is about.
func explain(msg, line string, col int) string {
	switch {
	case strings.Contains(line, "\t") && (strings.Contains(msg, "cannot start any token") || strings.Contains(msg, "tab")):
		return "a tab character: YAML is indented with spaces only (" + msg + ")"
	case strings.Contains(msg, "not allowed in this context"), strings.Contains(msg, "did not find expected"),
		strings.Contains(msg, "could not find expected"), strings.Contains(msg, "unexpected key name"):
		return "bad indentation: this line is indented differently from the lines it belongs with (" + msg + ")"
	case strings.HasPrefix(msg, "unknown field "):
		name := strings.Trim(strings.TrimPrefix(msg, "unknown field "), `"`)
		if slices.Contains(configKeys, name) {
			return fmt.Sprintf("key %q does not belong here: check its indentation, and the keys this part takes (kefu schema)", name)
		}
		if near := closestKey(name); near != "" {
			return fmt.Sprintf("unknown key %q: did you mean %q?", name, near)
		}
		return fmt.Sprintf("unknown key %q", name)
	}
	return msg
}

// configKeys are every key the configuration knows, gathered once from
// the yaml tags of Config and the types inside it.
var configKeys = func() []string {
	seen := map[reflect.Type]bool{}
	keys := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			keys[name] = true
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[Config]())
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	return out
}()

// closestKey is the known key nearest to name (at most two edits, or a
// third of its length), "" when none is near.
func closestKey(name string) string {
	best, bestD := "", max(2, len(name)/3)+1
	for _, k := range configKeys {
		if d := editDistance(name, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (adjacent swaps count
// one: nmae → name).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
