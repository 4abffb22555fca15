package ops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows/callerid"
)

// AuditLog is the record of every change made through the ops API (and
// the CLI, which goes through it): who, when, what, and how it ended. It
// is an append-only file of JSON lines, each synced to disk before the
// change is answered, so that no change is done without its record.
type AuditLog struct {
	mu sync.Mutex
	f  *os.File
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	At     time.Time       `json:"at"`
	Who    string          `json:"who"`
	Role   Role            `json:"role"`
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body,omitempty"`
	Status int             `json:"status"`
}

// OpenAudit opens (or creates) the audit log at path.
func OpenAudit(path string) (*AuditLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return &AuditLog{f: f}, nil
}

// Close closes the file.
func (a *AuditLog) Close() error { return a.f.Close() }

// Write appends e and syncs it to disk.
func (a *AuditLog) Write(e AuditEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return a.f.Sync()
}

// maxAuditBody is how much of a request's body the audit log keeps.
const maxAuditBody = 4096

// serve runs a change and records it: the handler's answer is held until
// the record is on disk; a change that cannot be recorded is answered
// 503 (it was made: the log says so in kefu's own log line).
func (a *AuditLog) serve(h http.Handler, w http.ResponseWriter, r *http.Request, c Caller) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	e := AuditEntry{At: time.Now(), Who: c.Name, Role: c.Role, Method: r.Method, Path: r.URL.Path, Status: rec.Code}
	if len(body) > 0 && len(body) <= maxAuditBody && json.Valid(body) {
		e.Body = body
	}
	if err := a.Write(e); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "the change was made but could not be written to the audit log: " + err.Error()})
		return
	}
	copyResponse(w, rec)
}

// numberRun is a run of digits long enough to be a phone number, not
// part of a time or a decimal (2026-12-06T10:00:00.929736587+08:00 keeps
// its fraction): the run must not follow a '.', ':' or a digit.
var numberRun = regexp.MustCompile(`(^|[^0-9.:])(\+?[0-9]{7,})`)

// maskNumbers serves h with the phone numbers in its JSON answer masked
// (a viewer sees figures, not callers: CS-PRIVACY).
func maskNumbers(h http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		copyResponse(w, rec)
		return
	}
	var v any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		copyResponse(w, rec)
		return
	}
	b, err := json.Marshal(mask(v))
	if err != nil {
		copyResponse(w, rec)
		return
	}
	rec.Body = bytes.NewBuffer(append(b, '\n'))
	copyResponse(w, rec)
}

// mask masks every number-like run in the strings of a JSON value.
func mask(v any) any {
	switch x := v.(type) {
	case string:
		return numberRun.ReplaceAllStringFunc(x, func(m string) string {
			sub := numberRun.FindStringSubmatch(m)
			return sub[1] + callerid.Mask(sub[2])
		})
	case []any:
		for i := range x {
			x[i] = mask(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = mask(x[k])
		}
	}
	return v
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, vs := range rec.Header() {
		if k == "Content-Length" {
			continue
		}
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}
