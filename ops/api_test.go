package ops_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
	"github.com/kefu-hotline/kefu/ops"
	"github.com/kefu-hotline/kefu/sip"
)

// goWords are what a Go error shows and an operator should not see.
var goWords = regexp.MustCompile(`Go (struct|value)|json: |\bscreen\.|\bops\.|\[\][a-z]|\bint64\b|\bstruct\b`)

// serve serves one request through h and returns the status, the body
// and the response headers.
func serve(h http.Handler, method, target, body string) (int, string, http.Header) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
	return rec.Code, rec.Body.String(), rec.Header()
}

// TestAPIErrors: every error is {"error": "..."} with its status, for
// routes the mux does not know and methods it does not serve too; body
// and parameter errors name the field in JSON's words, and echo what the
// operator typed.
func TestAPIErrors(t *testing.T) {
	e := screentest.NewEnv(t, &screentest.Memory{}, screen.Config{})
	mux := http.NewServeMux()
	ops.MountNuisance(mux, e.M)
	h := ops.API(mux, nil)
	for _, tc := range []struct {
		method, target, body string
		code                 int
		msg                  string
	}{
		{"GET", "/nope", "", 404, "no endpoint /nope"},
		{"GET", "/api/nuisance/flags/extra/more", "", 404, "no endpoint"},
		{"PATCH", "/api/nuisance", "", 405, "PATCH is not allowed on /api/nuisance; allowed: GET, HEAD, POST"},
		{"GET", "/api/nuisance?colour=red", "", 400, "colour: unknown parameter; want limit, offset, all"},
		{"GET", "/api/nuisance?limit=0", "", 400, `limit: "0": want an integer from 1 to 1000`},
		{"GET", "/api/nuisance?offset=-1", "", 400, `offset: "-1"`},
		{"GET", "/api/nuisance?all=maybe", "", 400, `all: "maybe": want 1 or 0`},
		{"GET", "/api/nuisance?limit=1&limit=2", "", 400, "limit: given more than once"},
		{"POST", "/api/nuisance", "", 400, "body: empty; want a JSON object"},
		{"POST", "/api/nuisance", "{nope", 400, "body: not JSON at byte 2"},
		{"POST", "/api/nuisance", `{"pattern":`, 400, "body: cut short"},
		{"POST", "/api/nuisance", `{"pattern": 4001234567}`, 400, "pattern: want a string, got number"},
		{"POST", "/api/nuisance", `{"pattern": "1", "action": {"code": "486"}}`, 400, "action.code: want an integer, got string"},
		{"POST", "/api/nuisance", `{"pattern": "1", "colour": "red"}`, 400, `body: unknown field "colour"`},
		{"POST", "/api/nuisance", `{"pattern": "1"} {}`, 400, "body: more than one JSON value"},
		{"POST", "/api/nuisance", `{"pattern": "` + strings.Repeat("1", 70000) + `"}`, 413, "body: larger than 65536 bytes"},
		{"POST", "/api/nuisance", `{"pattern":"13812345678x","reason":"r","added_by":"ops"}`, 400, `pattern: "13812345678x": only digits`},
		{"POST", "/api/nuisance", `{"pattern":"138 1234 5678","reason":"","added_by":"ops"}`, 400, "reason: is required"},
		{"DELETE", "/api/nuisance/13900001111", "", 404, `no nuisance entry "13900001111"`},
		{"DELETE", "/api/nuisance/^139.*", "", 400, `pattern: "^139.*": only digits`},
		{"DELETE", "/api/nuisance/flags/13900001111", "", 404, `"13900001111" is not flagged`},
		{"POST", "/api/nuisance/proposed/7/confirm", `{"by":"ops"}`, 404, "no proposal 7"},
	} {
		code, body, hdr := serve(h, tc.method, tc.target, tc.body)
		var got struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || code != tc.code || !strings.Contains(got.Error, tc.msg) {
			t.Errorf("%s %s %.40s: %d %s; want %d with %q", tc.method, tc.target, tc.body, code, body, tc.code, tc.msg)
			continue
		}
		if ct := hdr.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.target, ct)
		}
		if goWords.MatchString(got.Error) {
			t.Errorf("%s %s: the error speaks Go: %s", tc.method, tc.target, got.Error)
		}
		if code == 405 && hdr.Get("Allow") != "GET, HEAD, POST" {
			t.Errorf("405 without Allow: %v", hdr)
		}
	}
	// The clean-path redirect of the mux passes through.
	if code, _, hdr := serve(h, "GET", "/api//nuisance", ""); code/100 != 3 || hdr.Get("Location") != "/api/nuisance" {
		t.Errorf("unclean path: %d %v", code, hdr)
	}
}

// TestAPITimesAndPages: the nuisance list comes newest first, a page at a
// time with the total, and its times in the zone the wrapper is given.
func TestAPITimesAndPages(t *testing.T) {
	e := screentest.NewEnv(t, &screentest.Memory{}, screen.Config{})
	mux := http.NewServeMux()
	ops.MountNuisance(mux, e.M)
	tokyo := time.FixedZone("JST", 9*3600)
	h := ops.API(mux, func() *time.Location { return tokyo })
	for i, p := range []string{"4001", "4002", "4003"} {
		e.Clock.Set(screentest.T0.Add(time.Duration(i) * time.Minute))
		if code, body, _ := serve(h, "POST", "/api/nuisance", `{"pattern":"`+p+`*","reason":"spam","added_by":"ops"}`); code != 201 {
			t.Fatalf("add %s: %d %s", p, code, body)
		}
	}
	code, body, _ := serve(h, "GET", "/api/nuisance?limit=2", "")
	var pg page[screen.Entry]
	if err := json.Unmarshal([]byte(body), &pg); err != nil || code != 200 || pg.Total != 3 || pg.Limit != 2 || pg.Offset != 0 ||
		len(pg.Items) != 2 || pg.Items[0].Pattern != "4003*" || pg.Items[1].Pattern != "4002*" {
		t.Fatalf("first page: %d %s", code, body)
	}
	if !strings.Contains(body, `"added_at":"2026-11-23T11:02:00+09:00"`) {
		t.Errorf("times not in the zone: %s", body)
	}
	code, body, _ = serve(h, "GET", "/api/nuisance?limit=2&offset=2", "")
	if err := json.Unmarshal([]byte(body), &pg); err != nil || code != 200 || pg.Total != 3 || len(pg.Items) != 1 || pg.Items[0].Pattern != "4001*" {
		t.Fatalf("second page: %d %s", code, body)
	}
	if _, body, _ = serve(h, "GET", "/api/nuisance?offset=9", ""); !strings.Contains(body, `"items":[],"total":3`) {
		t.Errorf("past the end: %s", body)
	}
	if _, body, _ = serve(h, "GET", "/api/nuisance/flags", ""); !strings.Contains(body, `"items":[],"total":0`) {
		t.Errorf("no flags: %s", body)
	}
}

// fakeCalls is a LiveCalls.
type fakeCalls struct {
	calls  []sip.CallInfo
	hungUp []string
}

func (f *fakeCalls) Calls() []sip.CallInfo { return f.calls }

func (f *fakeCalls) Hangup(id string) bool {
	for _, c := range f.calls {
		if c.CallID == id {
			f.hungUp = append(f.hungUp, id)
			return true
		}
	}
	return false
}

// TestCallsAPI: the calls in progress as a list, [] when none; a hang-up
// of a known Call-ID is accepted, of an unknown one 404.
func TestCallsAPI(t *testing.T) {
	f := &fakeCalls{}
	mux := http.NewServeMux()
	ops.MountCalls(mux, f, nil)
	h := ops.API(mux, func() *time.Location { return time.FixedZone("CST", 8*3600) })
	if code, body, _ := serve(h, "GET", "/api/calls", ""); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("no calls: %d %s", code, body)
	}
	f.calls = []sip.CallInfo{{CallID: "a@b/c", Caller: "138****5678", State: "answered", Started: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), Step: "menu (menu)"}}
	if code, body, _ := serve(h, "GET", "/api/calls", ""); code != 200 || !strings.Contains(body, `"started":"2026-03-02T09:00:00+08:00"`) || !strings.Contains(body, `"step":"menu (menu)"`) {
		t.Errorf("one call: %d %s", code, body)
	}
	if code, body, _ := serve(h, "POST", "/api/calls/a@b%2Fc/hangup", ""); code != 202 || len(f.hungUp) != 1 || f.hungUp[0] != "a@b/c" {
		t.Errorf("hang up: %d %s %v", code, body, f.hungUp)
	}
	if code, body, _ := serve(h, "POST", "/api/calls/zzz/hangup", ""); code != 404 || !strings.Contains(body, `no call in progress has Call-ID \"zzz\"`) {
		t.Errorf("unknown call: %d %s", code, body)
	}
	if code, _, hdr := serve(h, "GET", "/api/calls/zzz/hangup", ""); code != 405 || hdr.Get("Allow") != "POST" {
		t.Errorf("GET hangup: %d %v", code, hdr)
	}
}

// fakeLevel is a LogLevel.
type fakeLevel struct {
	level, configured slog.Level
	by                string
}

func (f *fakeLevel) Level() slog.Level      { return f.level }
func (f *fakeLevel) Configured() slog.Level { return f.configured }
func (f *fakeLevel) SetLevel(l slog.Level, by string) {
	f.level, f.by = l, by
}

// TestLogLevelAPI: the level is shown, changed and put back.
func TestLogLevelAPI(t *testing.T) {
	f := &fakeLevel{}
	mux := http.NewServeMux()
	ops.MountLogLevel(mux, f)
	h := ops.API(mux, nil)
	if code, body, _ := serve(h, "GET", "/api/loglevel", ""); code != 200 || strings.TrimSpace(body) != `{"level":"info","configured":"info"}` {
		t.Errorf("get: %d %s", code, body)
	}
	if code, body, _ := serve(h, "PUT", "/api/loglevel", `{"level":"DEBUG"}`); code != 200 || strings.TrimSpace(body) != `{"level":"debug","configured":"info"}` || !strings.HasPrefix(f.by, "api ") {
		t.Errorf("put debug: %d %s %q", code, body, f.by)
	}
	if code, body, _ := serve(h, "PUT", "/api/loglevel", `{"level":"loud"}`); code != 400 || !strings.Contains(body, `level: \"loud\": want debug, info, warn or error`) || f.level != slog.LevelDebug {
		t.Errorf("put loud: %d %s", code, body)
	}
	if code, body, _ := serve(h, "DELETE", "/api/loglevel", ""); code != 200 || f.level != slog.LevelInfo || !strings.Contains(body, `"level":"info"`) {
		t.Errorf("delete: %d %s", code, body)
	}
}
