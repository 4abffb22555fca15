package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// TestIntegrationComplaint is CS-COMPLAINT-CLOSE on the real binary with the
// default hotline: the caller presses 2 during the opening, speaks after
// the complaint prompt and stops; kefu records until 5 s of silence, says
// the complaint closing, and the complaint is on the ops API with the
// caller's number, a reply deadline 24 h on, and a recording in the data
// directory that holds the caller's speech.
func TestIntegrationComplaint(t *testing.T) {
	integration(t)
	t.Parallel()
	speech := filepath.Join("..", "..", "testdata", "audio", "zh-speech-20.wav")
	if _, err := os.Stat(speech); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	a := startAgent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	// 2 at 3 s (during the opening), the complaint prompt (about 5.6 s)
	// follows at once, the speech from 10 s.
	_, code, out := dial(t, ctx, a, "-from", "sip:13812345678@127.0.0.1", "-keys", "2@3s", "-play", speech, "-play-at", "10s", "-for", "35s", "-max", "50s")
	if code != 0 {
		t.Fatalf("kefu dial exit %d\n%s", code, out)
	}
	if !a.waitLog(`"prompt_start","detail":"complaint.close"`, 5*time.Second) {
		t.Errorf("no complaint closing in kefu's log")
	}
	res, err := http.Get("http://" + a.http + "/api/complaints")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var cs []struct {
		Caller    string    `json:"caller"`
		At        time.Time `json:"at"`
		Deadline  time.Time `json:"deadline"`
		Recording string    `json:"recording"`
		Duration  float64   `json:"duration_seconds"`
	}
	if err := json.NewDecoder(res.Body).Decode(&cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("complaints %+v, want one", cs)
	}
	c := cs[0]
	if c.Caller != "13812345678" || c.Deadline.Sub(c.At) != 24*time.Hour || c.Recording == "" {
		t.Errorf("complaint %+v", c)
	}
	f, err := os.Open(filepath.Join(a.data, c.Recording))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := prompts.Decode(c.Recording, f)
	if err != nil {
		t.Fatal(err)
	}
	// The caller spoke about 3 s, 4 s into the recording; 5 s of silence
	// ended it.
	if d := float64(len(rec)) / 8000; d < 8 || d > 13 || d-c.Duration > 0.1 || c.Duration-d > 0.1 {
		t.Errorf("recording %.2f s (API %.2f s), want about 9-12 s", d, c.Duration)
	}
	if lvl := prompts.SpeechLevel(rec); lvl < -30 {
		t.Errorf("recording speech level %.1f dBFS: the caller's voice is not in it", lvl)
	}
}
