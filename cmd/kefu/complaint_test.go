package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// TestIntegrationComplaint is CS-COMPLAINT-CLOSE and CS-LISTEN on the real
// binary with the default hotline: the caller presses 2 during the opening,
// speaks after the complaint prompt, pauses 6 s and goes on; kefu asks
// 「请问您还有其他要补充的吗?」 at the pause while still recording, records
// the second part into the same complaint, asks again, and after 5 s with
// nothing more says the complaint closing. The complaint is on the ops API
// with the caller's number, a reply deadline 24 h on, and one recording in
// the data directory that holds both parts of the caller's speech.
func TestIntegrationComplaint(t *testing.T) {
	integration(t)
	t.Parallel()
	speech := filepath.Join("..", "..", "testdata", "audio", "zh-speech-20.wav")
	if _, err := os.Stat(speech); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	part := readAudio(t, speech)
	p0, p1 := speechSpan(part)
	const pause = 6.0 // seconds between the two parts' voices
	silence := make([]int16, int((pause-(float64(len(part))/8000-p1)-p0)*8000))
	caller := writeCaller(t, append(append(append([]int16(nil), part...), silence...), part...))
	second := float64(len(part)+len(silence))/8000 + p0 // the second part's voice, in the caller's audio

	a := startAgent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	// 2 at 3 s (during the opening), the complaint prompt (about 5.6 s)
	// follows at once, the speech from 10 s.
	_, code, out := dial(t, ctx, a, "-from", "sip:13812345678@127.0.0.1", "-keys", "2@3s", "-play", caller, "-play-at", "10s", "-for", "60s", "-max", "80s")
	if code != 0 {
		t.Fatalf("kefu dial exit %d\n%s", code, out)
	}
	if !a.waitLog(`"prompt_start","detail":"complaint.close"`, 5*time.Second) {
		t.Errorf("no complaint closing in kefu's log")
	}
	if !a.waitLog(`"detail":"complaint.more"`, time.Second) {
		t.Errorf("kefu never asked whether there is more")
	}
	res, err := http.Get("http://" + a.http + "/api/complaints")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		Items []struct {
			ID        int64     `json:"id"`
			Caller    string    `json:"caller"`
			At        time.Time `json:"at"`
			Deadline  time.Time `json:"deadline"`
			Recording string    `json:"recording"`
			Duration  float64   `json:"duration_seconds"`
		} `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	cs := page.Items
	if len(cs) != 1 {
		t.Fatalf("complaints %+v, want one", cs)
	}
	c := cs[0]
	if c.Caller != "13812345678" || c.Deadline.Sub(c.At) != 24*time.Hour || c.Recording == "" {
		t.Errorf("complaint %+v", c)
	}
	rec := readAudio(t, filepath.Join(a.data, c.Recording))
	// The API serves the same file.
	if got, err := http.Get(fmt.Sprintf("http://%s/api/complaints/%d/recording", a.http, c.ID)); err != nil {
		t.Error(err)
	} else {
		served, _ := io.ReadAll(got.Body)
		got.Body.Close()
		file, err := os.ReadFile(filepath.Join(a.data, c.Recording))
		if err != nil || got.StatusCode != 200 || got.Header.Get("Content-Type") != "audio/wav" || !bytes.Equal(served, file) {
			t.Errorf("GET the recording: %s %q, %d bytes; the file has %d", got.Status, got.Header.Get("Content-Type"), len(served), len(file))
		}
	}
	// The recording starts with the complaint prompt (about 3 s into the
	// call); the caller's parts are at 10 s and 10 s + second.
	in := func(callAt float64) float64 {
		i := int((callAt - 3) * 8000)
		if i < 0 || i+2*8000 > len(rec) {
			return math.Inf(-1)
		}
		return prompts.SpeechLevel(rec[i : i+2*8000])
	}
	for i, at := range []float64{10 + p0 + 0.2, 10 + second + 0.2} {
		if lvl := in(at); lvl < -30 {
			t.Errorf("part %d of the complaint (%.1f s into the call) is not in the recording: %.1f dBFS", i+1, at, lvl)
		}
	}
	// Both parts, each pause's question and 5 s after the last: about 35 s.
	if d := float64(len(rec)) / 8000; d < 28 || d > 42 || math.Abs(d-c.Duration) > 0.1 {
		t.Errorf("recording %.2f s (API %.2f s), want about 35 s", d, c.Duration)
	}
}
