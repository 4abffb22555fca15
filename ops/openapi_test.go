package ops_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
	"github.com/kefu-hotline/kefu/ops"
	"github.com/kefu-hotline/kefu/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeBoard is an AgentBoard of one agent.
type fakeBoard struct{}

func (fakeBoard) Agents() []agents.Status {
	return []agents.Status{{ID: "1001", Name: "li", State: agents.Available, Queues: []agents.Membership{{Queue: "sales", Level: 1}},
		Since: recordstest.T0}}
}
func (fakeBoard) Ready(string) error         { return nil }
func (fakeBoard) Pause(string, string) error { return nil }
func (fakeBoard) SignOut(string) error       { return nil }

// fullAPI is the whole ops surface as kefu run mounts it, over fakes
// that have something to show.
func fullAPI(t *testing.T) (*http.ServeMux, http.Handler) {
	t.Helper()
	e := screentest.NewEnv(t, &screentest.Memory{}, screen.Config{})
	for i := range 12 {
		e.Call("13812345678", screentest.T0.Add(time.Duration(i)*time.Second))
	}
	if _, err := e.M.Add(t.Context(), screen.AddRequest{Pattern: "400*", Reason: "spam", AddedBy: "ops", TTL: "1h"}); err != nil {
		t.Fatal(err)
	}
	mem := new(records.Memory)
	ctx := t.Context()
	if _, err := mem.AddCallback(ctx, recordstest.Callback("a", recordstest.T0)); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.AddComplaint(ctx, recordstest.Complaint("a", recordstest.T0)); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.AddSurvey(ctx, recordstest.Survey("a", recordstest.T0, 5)); err != nil {
		t.Fatal(err)
	}
	st := &status{ready: true}
	mux := ops.Handler(st, prometheus.NewRegistry(), func() string { return "v1" }, func() (string, error) {
		return "", errors.New("kefu.yaml:3:5: bad")
	})
	ops.MountNuisance(mux, e.M)
	ops.MountRecords(mux, mem, nil, ops.WithRecordsClock(func() time.Time { return recordstest.T0.Add(time.Hour) }))
	ops.MountRecordings(mux, mem, t.TempDir(), nil)
	ops.MountQueues(mux, func(time.Time) []queue.Figures {
		return []queue.Figures{{Queue: "sales", Waiting: 1, Answered: queue.WaitStats{Count: 1, Buckets: []queue.Bucket{{UpTo: queue.Duration(20 * time.Second), Count: 1}}},
			Abandoned: queue.WaitStats{Buckets: []queue.Bucket{}}, TimedOut: queue.WaitStats{Buckets: []queue.Bucket{}}}}
	})
	ops.MountAgents(mux, fakeBoard{})
	ops.MountCalls(mux, &fakeCalls{calls: []sip.CallInfo{{CallID: "x@y", Caller: "138****5678", Called: "95555", Source: "127.0.0.1:5060",
		Flow: "main", Version: "v1", State: "answered", Started: recordstest.T0, Answered: recordstest.T0, Seconds: 3, Codec: "PCMU",
		Step: "menu (menu)", Line: "speech"}}}, nil)
	ops.MountLogLevel(mux, &fakeLevel{})
	ops.MountCallbacks(mux, &fakeDesk{mem: mem, trunks: []sip.TrunkStatus{{Name: "carrier", Register: true, State: "registered", Up: true, MaxCalls: 2}}}, nil)
	ops.MountOpenAPI(mux)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return mux, ops.API(mux, func() *time.Location { return shanghai })
}

// status is an ops.Status.
type status struct{ ready bool }

func (s *status) Ready() bool      { return s.ready }
func (s *status) ActiveCalls() int { return 3 }

// openAPIDoc is the served document, decoded.
type openAPIDoc struct {
	OpenAPI    string                                      `json:"openapi"`
	Paths      map[string]map[string]*operation            `json:"paths"`
	Components struct{ Schemas map[string]map[string]any } `json:"components"`
	raw        map[string]any
}

type operation struct {
	Responses map[string]map[string]any `json:"responses"`
}

func loadDoc(t *testing.T, h http.Handler) *openAPIDoc {
	t.Helper()
	code, body, hdr := serve(h, "GET", "/api/openapi.json", "")
	if code != 200 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/openapi.json: %d %v", code, hdr)
	}
	var doc openAPIDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(body), &doc.raw); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Paths) == 0 {
		t.Fatalf("not an OpenAPI 3 document: %.200s", body)
	}
	if code, body, _ := serve(h, "GET", "/api/openapi.yaml", ""); code != 200 || !strings.HasPrefix(body, "openapi: 3.") {
		t.Errorf("GET /api/openapi.yaml: %d %.40s", code, body)
	}
	return &doc
}

// routes returns the patterns the ops package registers, read from its
// source: every HandleFunc and Handle call must name its pattern as a
// string literal, so that none escapes this test.
func routes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []string
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") || len(call.Args) != 2 {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: a route pattern that is not a string literal", fset.Position(call.Pos()))
				return true
			}
			p, _ := strconv.Unquote(lit.Value)
			out = append(out, p)
			return true
		})
	}
	return out
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// TestOpenAPIInStep: every route ops registers is documented, with its
// method, and every documented operation reaches the handler of that
// route (the mux matches it to exactly that pattern).
func TestOpenAPIInStep(t *testing.T) {
	mux, h := fullAPI(t)
	doc := loadDoc(t, h)
	registered := routes(t)
	if len(registered) < 25 {
		t.Fatalf("found only %d routes in the source: %v", len(registered), registered)
	}
	for _, p := range registered {
		method, path, _ := strings.Cut(p, " ")
		if op := doc.Paths[path][strings.ToLower(method)]; op == nil {
			t.Errorf("route %q is not documented in openapi.yaml", p)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			pattern := strings.ToUpper(method) + " " + path
			if !slices.Contains(registered, pattern) {
				t.Errorf("openapi.yaml documents %s, which no route serves", pattern)
				continue
			}
			target := pathParam.ReplaceAllString(path, "1")
			if _, got := mux.Handler(httptest.NewRequest(strings.ToUpper(method), target, nil)); got != pattern {
				t.Errorf("%s %s reaches %q, want %q", strings.ToUpper(method), target, got, pattern)
			}
		}
	}
}

// TestOpenAPIResponses: what the endpoints answer has the shape the
// document gives it: every GET without path parameters, and a few errors
// and actions. Fields the document does not name are errors too, so the
// two cannot drift apart.
func TestOpenAPIResponses(t *testing.T) {
	_, h := fullAPI(t)
	doc := loadDoc(t, h)
	type call struct{ method, target, body, path string }
	var calls []call
	for path, ops := range doc.Paths {
		if _, ok := ops["get"]; ok && !strings.Contains(path, "{") && path != "/metrics" && path != "/api/openapi.yaml" {
			calls = append(calls, call{"GET", path, "", path})
		}
	}
	calls = append(calls,
		call{"GET", "/api/nuisance/proposed?all=1", "", "/api/nuisance/proposed"},
		call{"GET", "/api/nuisance?all=1&limit=1", "", "/api/nuisance"},
		call{"POST", "/api/nuisance", `{"pattern":"4009","reason":"r","added_by":"ops","ttl":"1h"}`, "/api/nuisance"},
		call{"POST", "/api/nuisance", `{"pattern":"x"}`, "/api/nuisance"},
		call{"DELETE", "/api/nuisance/4010", "", "/api/nuisance/{pattern}"},
		call{"POST", "/api/nuisance/proposed/1/confirm", `{"by":"ops"}`, "/api/nuisance/proposed/{id}/confirm"},
		call{"POST", "/api/nuisance/proposed/1/reject", `{"by":"ops"}`, "/api/nuisance/proposed/{id}/reject"},
		call{"POST", "/api/reload", "", "/api/reload"},
		call{"PUT", "/api/loglevel", `{"level":"debug"}`, "/api/loglevel"},
		call{"POST", "/api/calls/x@y/hangup", "", "/api/calls/{id}/hangup"},
		call{"POST", "/api/calls/nope/hangup", "", "/api/calls/{id}/hangup"},
		call{"POST", "/api/agents/1001/pause", `{"reason":"lunch"}`, "/api/agents/{id}/pause"},
		call{"POST", "/api/callbacks/9/done", "", "/api/callbacks/{id}/done"},
		call{"GET", "/api/callbacks/1/attempts", "", "/api/callbacks/{id}/attempts"},
		call{"POST", "/api/callbacks/1/cancel", "", "/api/callbacks/{id}/cancel"},
		call{"POST", "/api/callbacks/1/requeue", "", "/api/callbacks/{id}/requeue"},
		call{"POST", "/api/callbacks/9/cancel", "", "/api/callbacks/{id}/cancel"},
		call{"POST", "/api/complaints/1/resolved", `{"by":"ops"}`, "/api/complaints/{id}/resolved"},
		call{"GET", "/api/complaints?open=2", "", "/api/complaints"},
		call{"GET", "/api/complaints/1/recording", "", "/api/complaints/{id}/recording"},
	)
	for _, c := range calls {
		code, body, _ := serve(h, c.method, c.target, c.body)
		op := doc.Paths[c.path][strings.ToLower(c.method)]
		if op == nil {
			t.Errorf("%s %s: not documented", c.method, c.path)
			continue
		}
		resp := op.Responses[strconv.Itoa(code)]
		if resp == nil {
			t.Errorf("%s %s: status %d is not documented (%s)", c.method, c.target, code, body)
			continue
		}
		if ref, ok := resp["$ref"].(string); ok {
			resp = doc.resolve(ref)
		}
		content, _ := resp["content"].(map[string]any)
		mt, _ := content["application/json"].(map[string]any)
		if mt == nil {
			if strings.TrimSpace(body) != "" {
				t.Errorf("%s %s: %d documented without a body, got %s", c.method, c.target, code, body)
			}
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Errorf("%s %s: %v in %s", c.method, c.target, err, body)
			continue
		}
		for _, err := range doc.check(mt["schema"].(map[string]any), v, "$") {
			t.Errorf("%s %s (%d): %v", c.method, c.target, code, err)
		}
	}
	// Errors of any path have the Error shape.
	code, body, _ := serve(h, "GET", "/api/none", "")
	var v any
	_ = json.Unmarshal([]byte(body), &v)
	if errs := doc.check(map[string]any{"$ref": "#/components/schemas/Error"}, v, "$"); code != 404 || len(errs) > 0 {
		t.Errorf("404: %d %s %v", code, body, errs)
	}
}

// resolve follows a local $ref.
func (d *openAPIDoc) resolve(ref string) map[string]any {
	var node any = d.raw
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, _ := node.(map[string]any)
		node = m[part]
	}
	m, _ := node.(map[string]any)
	return m
}

// check validates v against the JSON Schema subset the document uses:
// $ref, allOf, type, enum, const, required, properties,
// additionalProperties: false, items, minimum, maximum, and date-time
// strings, which must carry the hotline's offset (+08:00).
func (d *openAPIDoc) check(s map[string]any, v any, at string) []error {
	if ref, ok := s["$ref"].(string); ok {
		return d.check(d.resolve(ref), v, at)
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(at+": "+format, args...)) }
	if all, ok := s["allOf"].([]any); ok {
		props := map[string]any{}
		for _, sub := range all {
			subm := sub.(map[string]any)
			if ref, ok := subm["$ref"].(string); ok {
				subm = d.resolve(ref)
			}
			errs = append(errs, d.check(subm, v, at)...)
			if p, ok := subm["properties"].(map[string]any); ok {
				for k := range p {
					props[k] = true
				}
			}
		}
		if obj, ok := v.(map[string]any); ok {
			for k := range obj {
				if props[k] == nil {
					bad("field %q is not documented", k)
				}
			}
		}
	}
	if typ, ok := s["type"].(string); ok && !isType(v, typ) {
		bad("want %s, got %T %v", typ, v, v)
		return errs
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		bad("%v is not one of %v", v, enum)
	}
	if c, ok := s["const"]; ok && c != v {
		bad("%v, want %v", v, c)
	}
	if n, ok := v.(float64); ok {
		if lo, ok := s["minimum"].(float64); ok && n < lo {
			bad("%v below %v", n, lo)
		}
		if hi, ok := s["maximum"].(float64); ok && n > hi {
			bad("%v above %v", n, hi)
		}
	}
	if str, ok := v.(string); ok && s["format"] == "date-time" {
		if _, err := time.Parse(time.RFC3339, str); err != nil || !strings.HasSuffix(str, "+08:00") {
			bad("%q is not a time with the hotline's offset", str)
		}
	}
	if obj, ok := v.(map[string]any); ok {
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := obj[r]; !ok {
				bad("required field %q missing", r)
			}
		}
		for k, fv := range obj {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if s["additionalProperties"] == false {
					bad("field %q is not documented", k)
				}
				continue
			}
			errs = append(errs, d.check(ps, fv, at+"."+k)...)
		}
	}
	if arr, ok := v.([]any); ok {
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range arr {
				errs = append(errs, d.check(items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return errs
}

func isType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		n, ok := v.(float64)
		return ok && n == float64(int64(n))
	}
	return false
}

func asStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
