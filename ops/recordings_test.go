package ops_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/ops"
)

// TestRecordingsAPI: a complaint's recording is served as audio/wav with
// ranges; while it is being recorded, its part file; a complaint with no
// recording, a file gone and an unknown id answer 404 in JSON.
func TestRecordingsAPI(t *testing.T) {
	dir := t.TempDir()
	mem := new(records.Memory)
	add := func(c records.Complaint, file, content string) {
		t.Helper()
		if _, err := mem.AddComplaint(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if file != "" {
			p := filepath.Join(dir, file)
			if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	done := recordstest.Complaint("a", recordstest.T0) // recordings/a.wav
	add(done, "recordings/a.wav", "RIFF-the-whole-recording")
	live := recordstest.Complaint("b", recordstest.T0)
	live.State, live.Duration = records.Recording, 0
	add(live, "recordings/b.wav.part", "RIFF-so-far")
	none := recordstest.Complaint("c", recordstest.T0)
	none.Recording, none.Duration = "", 0
	add(none, "", "")
	add(recordstest.Complaint("d", recordstest.T0), "", "") // its file is gone

	mux := http.NewServeMux()
	ops.MountRecordings(mux, mem, dir, nil)
	h := ops.API(mux, func() *time.Location { return time.UTC })
	code, body, hdr := serve(h, "GET", "/api/complaints/1/recording", "")
	if code != 200 || body != "RIFF-the-whole-recording" || hdr.Get("Content-Type") != "audio/wav" ||
		hdr.Get("Content-Disposition") != `attachment; filename=a.wav` || hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("recording: %d %q %v", code, body, hdr)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/complaints/1/recording", nil)
	req.Header.Set("Range", "bytes=0-3")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusPartialContent || rec.Body.String() != "RIFF" {
		t.Errorf("range: %d %q", rec.Code, rec.Body.String())
	}
	if code, body, _ := serve(h, "HEAD", "/api/complaints/1/recording", ""); code != 200 || body != "" {
		t.Errorf("HEAD: %d %q", code, body)
	}
	if code, body, _ := serve(h, "GET", "/api/complaints/2/recording", ""); code != 200 || body != "RIFF-so-far" {
		t.Errorf("being recorded: %d %q", code, body)
	}
	for target, msg := range map[string]string{
		"/api/complaints/3/recording": "complaint 3 has no recording",
		"/api/complaints/4/recording": "the recording of complaint 4 is gone (recordings/d.wav)",
		"/api/complaints/9/recording": "no complaint 9",
		"/api/complaints/x/recording": `no complaint \"x\"`,
	} {
		if code, body, _ := serve(h, "GET", target, ""); code != 404 || !strings.Contains(body, msg) {
			t.Errorf("%s: %d %s, want 404 with %q", target, code, body, msg)
		}
	}
}
