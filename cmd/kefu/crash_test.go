package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media/audio"
)

// crashConfig records a complaint (or, for callers 1390…, a message) at
// once after the answer, for at most 3 s, then says the closing: each call
// goes through the start of a recording, its audio, its end and its
// storing within a few seconds.
const crashConfig = `
routes:
  - from: "1390*"
    flow: message
  - to: "*"
    flow: complaint
flows:
  complaint:
    steps:
      - name: record
        record: {class: general, max: 3s, silence_end: 1s, more: none, on_empty: bye}
      - name: record_close
        say: {prompt: complaint.close, whole: true}
      - name: record_end
        hangup: {wait: 10s}
      - name: bye
        say: {prompt: close.bye}
      - name: bye_end
        hangup: {}
  message:
    steps:
      - name: record
        record: {class: message, prompt: message.ask, closing: message.close, max: 3s, silence_end: 1s, more: none, on_empty: bye}
      - name: record_close
        say: {prompt: message.close, whole: true}
      - name: record_end
        hangup: {wait: 10s}
      - name: bye
        say: {prompt: close.bye}
      - name: bye_end
        hangup: {}
`

// crashRecordMax is the config's max: a recording stops and is stored
// that long after the answer.
const crashRecordMax = 3.0

// crashCall is one call of the crash test: a caller speaking into a
// recording that kefu is killed during.
type crashCall struct {
	caller string
	class  string
	cmd    *exec.Cmd
	done   chan struct{} // closed when its timeline has been read
	answer chan struct{} // closed when it is answered

	mu       sync.Mutex
	answered time.Time // when its "answered" line came; zero if not before the kill
	killedAt time.Time // when kefu was killed
}

// complaintOut is a complaint on /api/complaints.
type complaintOut struct {
	ID        int64   `json:"id"`
	CallID    string  `json:"call_id"`
	Caller    string  `json:"caller"`
	Class     string  `json:"class"`
	Recording string  `json:"recording"`
	Duration  float64 `json:"duration_seconds"`
	State     string  `json:"state"`
}

// TestIntegrationCrashRecording: no complaint is lost to kill -9. kefu
// records complaints and messages from callers speaking (kefu dial with
// speech), and is killed with SIGKILL at a random moment of the
// recordings and of their storing, again and again on the same data
// directory. At every kill the recordings on disk already decode; after
// every restart no complaint is left "recording" and no part file is left
// over, every complaint whose caller was being recorded is listed
// (interrupted, or recorded if it was stored first), every recording file
// belongs to one complaint and decodes to the duration the complaint
// states, about as long as the caller was recorded before the kill, and
// nothing from earlier rounds changed. KEFU_CRASH_SEED=N repeats a run's
// offsets.
func TestIntegrationCrashRecording(t *testing.T) {
	integration(t)
	t.Parallel()
	speech := filepath.Join("..", "..", "testdata", "audio", "zh-speech-20.wav")
	if _, err := os.Stat(speech); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KEFU_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("KEFU_CRASH_SEED: %v", err)
		}
	}
	t.Logf("seed %d (KEFU_CRASH_SEED=%d repeats these offsets)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 16))
	cfg := configFile(t, crashConfig)
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	const rounds = 8
	var (
		calls []*crashCall
		seen  = map[int64]complaintOut{} // every complaint listed so far
	)
	a := startAgent(t, "-config", cfg, "-data", data)
	for round := range rounds {
		// Two calls, the second 0-1.5 s after the first; kefu killed
		// 0.3-4 s after the first started, or, every other round, about
		// when its recording stops and is stored (3 s after its answer).
		second := time.Duration(rng.Float64() * 1.5 * float64(time.Second))
		kill := time.Duration((0.3 + rng.Float64()*3.7) * float64(time.Second))
		atStore := round%2 == 1
		if atStore {
			kill = time.Duration((crashRecordMax - 0.2 + rng.Float64()*0.5) * float64(time.Second))
		}
		t.Logf("round %d: second call after %v, kill %v after the first call's %s", round+1, second.Round(time.Millisecond),
			kill.Round(time.Millisecond), map[bool]string{false: "start", true: "answer"}[atStore])
		start := time.Now()
		var now []*crashCall
		for i, at := range []time.Duration{0, second} {
			select {
			case <-time.After(time.Until(start.Add(at))):
			case <-ctx.Done():
				t.Fatal(ctx.Err())
			}
			prefix := "1380"
			if (round+i)%2 == 1 {
				prefix = "1390" // a message
			}
			now = append(now, startCrashCall(t, ctx, a, speech, fmt.Sprintf("%s%07d", prefix, round*10+i)))
		}
		if atStore {
			select {
			case <-now[0].answer:
				start = now[0].answered
			case <-time.After(5 * time.Second):
				t.Fatal("the first call was not answered within 5 s")
			}
		}
		select {
		case <-time.After(time.Until(start.Add(kill))):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		killed := time.Now()
		if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-a.exited
		for _, c := range now {
			c.mu.Lock()
			c.killedAt = killed
			c.mu.Unlock()
			_ = c.cmd.Process.Kill()
			<-c.done
			_ = c.cmd.Wait()
		}
		calls = append(calls, now...)
		partsDecode(t, data)

		a = startAgent(t, "-config", cfg, "-data", data)
		checkRecovered(t, a, data, calls, len(calls)-len(now), seen)
		if t.Failed() {
			t.Fatalf("round %d (seed %d) failed", round+1, seed)
		}
	}
}

// startCrashCall dials a with caller, playing speech from the answer on;
// the returned call notes when it was answered.
func startCrashCall(t *testing.T, ctx context.Context, a *agent, speech, caller string) *crashCall {
	t.Helper()
	c := &crashCall{caller: caller, class: "general", done: make(chan struct{}), answer: make(chan struct{})}
	if strings.HasPrefix(caller, "1390") {
		c.class = "message"
	}
	c.cmd = exec.CommandContext(ctx, kefuBinary(t), "dial", "-from", "sip:"+caller+"@127.0.0.1", "-play", speech, "-play-at", "200ms",
		"-for", "8s", "-max", "20s", "sip:hotline@"+a.sip)
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev timelineEvent
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Ev == "answered" {
				c.mu.Lock()
				if c.killedAt.IsZero() {
					c.answered = time.Now()
					close(c.answer)
				}
				c.mu.Unlock()
			}
		}
	}()
	return c
}

// partsDecode: what a kill left being recorded is a WAV file that decodes
// as it is, or holds no audio yet.
func partsDecode(t *testing.T, data string) {
	t.Helper()
	_ = filepath.WalkDir(filepath.Join(data, records.RecordingsDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, records.PartSuffix) {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			t.Error(err)
			return nil
		}
		defer f.Close()
		fi, _ := f.Stat()
		if _, err := audio.ReadWAV(f); err != nil && !(errors.Is(err, audio.ErrEmpty) && fi.Size() <= 44) {
			t.Errorf("the recording left by the kill does not decode: %s (%d bytes): %v", p, fi.Size(), err)
		}
		return nil
	})
}

// checkRecovered checks what the restarted kefu lists against the calls
// made so far (from: the first of this round's, logged) and the
// complaints seen before.
func checkRecovered(t *testing.T, a *agent, data string, calls []*crashCall, from int, seen map[int64]complaintOut) {
	t.Helper()
	res, err := http.Get("http://" + a.http + "/api/complaints")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		Items []complaintOut `json:"items"`
		Total int            `json:"total"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	cs := page.Items
	if len(cs) != page.Total {
		t.Fatalf("%d complaints listed of %d", len(cs), page.Total)
	}
	byCaller := map[string][]complaintOut{}
	files := map[string]int64{}
	for _, c := range cs {
		byCaller[c.Caller] = append(byCaller[c.Caller], c)
		if old, ok := seen[c.ID]; ok && old != c {
			t.Errorf("complaint %d changed after a restart: %+v, was %+v", c.ID, c, old)
		}
		seen[c.ID] = c
		if c.State != "interrupted" && c.State != "recorded" {
			t.Errorf("complaint %d is %q after the restart", c.ID, c.State)
		}
		if c.Recording == "" {
			continue
		}
		files[c.Recording] = c.ID
		if !strings.Contains(c.Recording, records.SafeName(c.CallID)) || c.CallID == "" {
			t.Errorf("complaint %d: recording %s does not name call %q", c.ID, c.Recording, c.CallID)
		}
		f, err := os.Open(filepath.Join(data, c.Recording))
		if err != nil {
			t.Errorf("complaint %d: %v", c.ID, err)
			continue
		}
		p, err := audio.ReadWAV(f)
		f.Close()
		if err != nil {
			t.Errorf("complaint %d: %s does not decode: %v", c.ID, c.Recording, err)
		} else if d := float64(len(p.Samples)) / float64(p.Rate); math.Abs(d-c.Duration) > 0.03 {
			t.Errorf("complaint %d: %s holds %.2f s, the complaint says %.2f s", c.ID, c.Recording, d, c.Duration)
		}
	}
	if len(seen) != len(cs) {
		t.Errorf("%d complaints listed, %d seen before: some are gone", len(cs), len(seen))
	}
	// Every recording on disk is a complaint's; none is left a part file.
	_ = filepath.WalkDir(filepath.Join(data, records.RecordingsDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(data, p)
		if _, ok := files[filepath.ToSlash(rel)]; !ok {
			t.Errorf("%s is no complaint's recording", rel)
		}
		return nil
	})

	for i, call := range calls {
		call.mu.Lock()
		answered, killed := call.answered, call.killedAt
		call.mu.Unlock()
		got := byCaller[call.caller]
		elapsed := killed.Sub(answered).Seconds()
		switch {
		case len(got) > 1:
			t.Errorf("caller %s: %d complaints, want one", call.caller, len(got))
			continue
		case len(got) == 0 && !answered.IsZero() && elapsed > 0.5:
			t.Errorf("caller %s was recorded for %.2f s before the kill: no complaint listed", call.caller, elapsed)
			continue
		case len(got) == 0:
			if i >= from {
				t.Logf("  caller %s (%s): killed %s; no complaint", call.caller, call.class, map[bool]string{true: "before the answer", false: fmt.Sprintf("%.2f s after the answer", elapsed)}[answered.IsZero()])
			}
			continue // killed before the recording began
		}
		c := got[0]
		if i >= from {
			t.Logf("  caller %s (%s): killed %.2f s after the answer; %s, %.2f s, %s", call.caller, call.class, elapsed, c.State, c.Duration, c.Recording)
		}
		if c.Class != call.class {
			t.Errorf("caller %s: class %q, want %q", call.caller, c.Class, call.class)
		}
		if answered.IsZero() {
			continue // answered as kefu died: no time to judge the length by
		}
		switch c.State {
		case "recorded":
			if math.Abs(c.Duration-crashRecordMax) > 0.3 || elapsed < crashRecordMax-0.3 {
				t.Errorf("caller %s: recorded %.2f s, killed %.2f s after the answer; want %.1f s stored before the kill", call.caller, c.Duration, elapsed, crashRecordMax)
			}
		case "interrupted":
			// All that was recorded, but for at most the last quarter
			// of a second (buffered when the kill came) and the call's
			// set-up.
			want := math.Min(elapsed, crashRecordMax)
			if c.Duration > want+0.3 || c.Duration < want-1.0 {
				t.Errorf("caller %s: interrupted with %.2f s, recorded about %.2f s before the kill", call.caller, c.Duration, want)
			}
		}
	}
	interrupted := 0
	for _, c := range cs {
		if c.State == "interrupted" {
			interrupted++
		}
	}
	t.Logf("after %d calls: %d complaints, %d interrupted", len(calls), len(cs), interrupted)
}
