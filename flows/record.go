package flows

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// Record records what the caller says — a complaint (CS-COMPLAINT-CLOSE) —
// and stores it with the caller's number, the time and a reply deadline.
// The recording starts before the prompt, so words said over it are kept
// (CS-LISTEN). When the caller has finished and stayed silent SilenceEnd,
// kefu asks whether there is more (More, 「请问您还有其他要补充的吗?」) while
// still recording; a caller who goes on is recorded into the same file. It
// ends on the end key, on silence after the question, or at Max. A caller
// who says nothing for NoSpeech leaves no complaint: OnEmpty. The flow must
// then close with the complaint closing phrase (checked at load).
type Record struct {
	Prompt      string    `yaml:"prompt"`       // default complaint.ask
	More        string    `yaml:"more"`         // asked at a pause; default complaint.more; "none" asks nothing
	Max         *Duration `yaml:"max"`          // default 2m
	SilenceEnd  *Duration `yaml:"silence_end"`  // default 5s
	NoSpeech    *Duration `yaml:"no_speech"`    // default 10s
	EndKey      string    `yaml:"end_key"`      // default "#"
	Class       string    `yaml:"class"`        // complaint class; default "general"
	ReplyWithin *Duration `yaml:"reply_within"` // default 24h
	// Closing is the phrase that must end a call after this recording;
	// default complaint.close.
	Closing string `yaml:"closing"`
	OnDone  string `yaml:"on_done"`
	OnEmpty string `yaml:"on_empty"`
}

// Record defaults.
const (
	DefaultRecordMax     = 2 * time.Minute
	DefaultRecordSilence = 5 * time.Second
	DefaultNoSpeech      = 10 * time.Second
	DefaultComplaint     = "general"
)

// Recording is a capture of the caller's audio in progress.
type Recording interface {
	// Stop ends the capture and says where it went.
	Stop() (RecordingInfo, error)
}

// RecordingInfo describes a finished recording.
type RecordingInfo struct {
	Path     string // relative to the data directory; "" when nothing was kept
	Duration time.Duration
}

// run records the complaint. No complaint is lost to a crash: it is
// stored (being recorded) before the first byte of audio, in a file named
// by its call id, and finished when the recording ends; what kefu's
// stopping cuts short, records.Recover finishes at the next start.
func (rc *Record) run(ctx context.Context, r *Runner) (string, error) {
	start := r.clock.Now()
	c := records.Complaint{CallID: r.info.CallID, Caller: r.info.Caller, Class: orStr(rc.Class, DefaultComplaint),
		At: start, Deadline: start.Add(rc.ReplyWithin.or(records.DefaultReplyWithin)), State: records.Recording}
	c.Recording = records.RecordingPath(c.Class, start, c.CallID)
	c = r.startComplaint(ctx, c)
	rec, err := r.call.Record(c.Recording)
	if err != nil {
		// Listed all the same: the caller's number is there to call back.
		r.endComplaint(ctx, c, records.ComplaintEnd{State: records.Interrupted})
		return "", fmt.Errorf("record: %w", err)
	}
	r.note("record", "start")
	spoke, stopped, err := rc.take(ctx, r, start)
	info, stopErr := rec.Stop()
	r.note("record", fmt.Sprintf("end (%s) %v", stopped, info.Duration.Round(10*time.Millisecond)))
	switch {
	case !spoke:
		r.endComplaint(ctx, c, records.ComplaintEnd{})
		return rc.OnEmpty, errors.Join(err, stopErr)
	case stopErr != nil:
		// What reached the disk is kept (Recover finishes its file at the
		// next start) and the complaint stored: the closing's promise holds.
		r.log.Error("recording failed; the complaint is stored as interrupted", "class", c.Class, "recording", info.Path, "error", stopErr)
		r.endComplaint(ctx, c, records.ComplaintEnd{State: records.Interrupted, Recording: info.Path, Duration: info.Duration})
		return rc.OnDone, err
	}
	// A caller who said it and hung up without the end key has still
	// complained: it is stored all the same.
	if err := r.storeComplaint(ctx, c, info); err != nil {
		return "", err
	}
	return rc.OnDone, err
}

// take runs the recording: the prompt, the caller's words, and at each
// pause the question whether there is more, until the caller has nothing
// more, presses the end key, or Max passes.
func (rc *Record) take(ctx context.Context, r *Runner, start time.Time) (spoke bool, why string, err error) {
	endKey := []rune(orStr(rc.EndKey, "#"))[0]
	h, err := r.play(ctx, orStr(rc.Prompt, "complaint.ask"))
	spoke = h.speech || h.weak || r.talking
	switch {
	case err != nil:
		return spoke, "call ended", err
	case strings.ContainsRune(h.keys, endKey):
		return spoke, "end key", nil
	}
	more := orStr(rc.More, "complaint.more")
	for {
		s, why, err := r.recordUntil(ctx, rc, start, spoke)
		spoke = spoke || s
		if err != nil || why != "silence" || !spoke || more == "none" {
			return spoke, why, err
		}
		// The caller paused: ask whether there is more, still recording.
		h, err := r.play(ctx, more)
		if err != nil {
			return spoke, "call ended", err
		}
		if strings.ContainsRune(h.keys, endKey) {
			return spoke, "end key", nil
		}
		if !h.speech && !h.weak && !r.talking {
			r.note("wait", "more "+rc.SilenceEnd.or(DefaultRecordSilence).String())
			if h, err = r.pause(ctx, rc.SilenceEnd.or(DefaultRecordSilence), func(h heard) bool { return h.speech || h.weak || h.key != 0 }); err != nil {
				return spoke, "call ended", err
			}
			if strings.ContainsRune(h.keys, endKey) {
				return spoke, "end key", nil
			}
			if !h.speech && !h.weak {
				return spoke, "nothing more", nil
			}
		}
		if r.clock.Now().Sub(start) >= rc.Max.or(DefaultRecordMax) {
			return spoke, "max", nil
		}
	}
}

func (rc *Record) exits() []exit {
	return []exit{{label: "recorded", to: rc.OnDone, field: "on_done"}, {label: "nothing said", to: rc.OnEmpty, field: "on_empty"}}
}

func (rc *Record) check(sc *stepCheck) {
	if rc.EndKey != "" && !isPhoneKey(rc.EndKey) {
		sc.at("end_key", "end_key %q is not a phone key (0-9 * # A-D)", rc.EndKey)
	}
	if rc.Max.or(DefaultRecordMax) <= rc.SilenceEnd.or(DefaultRecordSilence) {
		sc.at("max", "max %v must be longer than silence_end %v", rc.Max.or(DefaultRecordMax), rc.SilenceEnd.or(DefaultRecordSilence))
	}
	if rc.ReplyWithin != nil && rc.ReplyWithin.D() <= 0 {
		sc.at("reply_within", "reply_within must be positive (CS-COMPLAINT-CLOSE: 24h by default)")
	}
	sc.louderClash("end_key", orStr(rc.EndKey, "#"))
	sc.bound("max", rc.Max, 30*time.Minute)
	sc.bound("silence_end", rc.SilenceEnd, time.Minute)
	sc.bound("no_speech", rc.NoSpeech, 2*time.Minute)
	sc.bound("reply_within", rc.ReplyWithin, 30*24*time.Hour)
}

func (rc *Record) checkPrompts(pc *promptCheck) {
	pc.need(pc.path+".prompt", orStr(rc.Prompt, "complaint.ask"))
	if m := orStr(rc.More, "complaint.more"); m != "none" {
		pc.need(pc.path+".more", m)
		if p, ok := pc.cat.Get(m); ok && strings.Contains(p.Text, "还有其他问题") {
			pc.at("more", "CS-COMPLAINT-CLOSE: ask 「请问您还有其他要补充的吗?」, never 「还有其他问题吗?」 (%q says %q)", m, p.Text)
		}
	}
	// CS-PROMISE: the closing must not promise another time than the
	// reply deadline the complaint is stored with.
	closing := orStr(rc.Closing, "complaint.close")
	if p, ok := pc.cat.Get(closing); ok {
		within := rc.ReplyWithin.or(records.DefaultReplyWithin)
		if h, said := promisedHours(p.Text); said && time.Duration(h)*time.Hour != within {
			pc.at("reply_within", "reply_within %v, but the closing %q promises an answer within %d hours: make them agree (record the prompt again, or set reply_within: %dh)", within, closing, h, h)
		}
	}
	pc.need(pc.path+".closing", orStr(rc.Closing, "complaint.close"))
}

// walkClose: a recorded complaint must be closed with the complaint
// phrase; nothing said leaves no complaint to promise on.
func (rc *Record) walkClose(w *closeWalk, i int, _, complaint string) {
	asked := orStr(rc.Prompt, "complaint.ask")
	done, empty := w.f.following(i, rc.OnDone), w.f.following(i, rc.OnEmpty)
	if done < 0 || empty < 0 {
		w.hangsUp(i, asked, complaint)
	}
	if done >= 0 {
		w.walk(done, asked, orStr(rc.Closing, "complaint.close"))
	}
	if empty >= 0 {
		w.walk(empty, asked, complaint)
	}
}

func (rc *Record) label() string { return "record" }

// startComplaint stores c, a complaint being recorded, before its audio.
// A store that fails is logged: the recording goes on, and storeComplaint
// stores the complaint whole at its end. The complaint is returned with
// its ID (0 when not stored).
func (r *Runner) startComplaint(ctx context.Context, c records.Complaint) records.Complaint {
	if r.records == nil {
		return c
	}
	saved, err := r.records.AddComplaint(context.WithoutCancel(ctx), c)
	if err != nil {
		r.log.Error("complaint not stored before its recording; it is stored when the recording ends", "class", c.Class, "recording", c.Recording, "error", err)
		return c
	}
	return saved
}

// endComplaint finishes complaint c (stored when its recording started)
// the way end says, or drops it when end has no state (nothing was said).
// A store that fails is logged: records.Recover marks it interrupted at
// the next start.
func (r *Runner) endComplaint(ctx context.Context, c records.Complaint, end records.ComplaintEnd) {
	if r.records == nil || c.ID == 0 {
		if end.State != "" {
			r.log.Error("complaint interrupted and not stored", "class", c.Class, "recording", end.Recording)
		}
		return
	}
	var err error
	if end.State == "" {
		err = r.records.DropComplaint(context.WithoutCancel(ctx), c.ID)
	} else {
		err = r.records.FinishComplaint(context.WithoutCancel(ctx), c.ID, end)
		r.Result.Complaint = c.ID
	}
	if err != nil {
		r.log.Error("complaint not finished in the store; it is listed as interrupted at the next start", "complaint", c.ID, "error", err)
	}
}

// storeComplaint stores a recorded complaint with its reply deadline: it
// finishes the one stored when the recording started, or stores it whole
// when that failed.
func (r *Runner) storeComplaint(ctx context.Context, c records.Complaint, info RecordingInfo) error {
	if r.records == nil {
		r.log.Warn("no store for complaints: the complaint is only logged", "class", c.Class, "recording", info.Path)
		return nil
	}
	end := records.ComplaintEnd{State: records.Recorded, Recording: info.Path, Duration: info.Duration}
	var err error
	if c.ID != 0 {
		err = r.records.FinishComplaint(context.WithoutCancel(ctx), c.ID, end)
	} else {
		c.State, c.Recording, c.Duration = end.State, end.Recording, end.Duration
		c, err = r.records.AddComplaint(context.WithoutCancel(ctx), c)
	}
	if err != nil {
		return fmt.Errorf("store complaint: %w", err)
	}
	r.Result.Complaint = c.ID
	r.note("stored", fmt.Sprintf("complaint %d (%s, reply by %s)", c.ID, c.Class, c.Deadline.In(r.cfg.Location()).Format(time.DateTime)))
	return nil
}

// recordUntil takes the caller's events while recording and returns when
// the recording should stop or pause, and why: the end key, Max, nothing
// said for NoSpeech, or (after speech) SilenceEnd of silence once the
// caller finished an utterance. spoke says whether the caller spoke
// before.
func (r *Runner) recordUntil(ctx context.Context, rc *Record, start time.Time, spoke bool) (spokeNow bool, why string, err error) {
	end := start.Add(rc.Max.or(DefaultRecordMax))
	quietFrom := r.clock.Now()
	endKey := []rune(orStr(rc.EndKey, "#"))[0]
	for {
		deadline, reason := end, "max"
		quiet := quietFrom.Add(rc.SilenceEnd.or(DefaultRecordSilence))
		if !spoke && !spokeNow {
			// Nothing said yet: NoSpeech from the end of the prompt.
			quiet, reason = quietFrom.Add(rc.NoSpeech.or(DefaultNoSpeech)), "silence"
		}
		if !r.talking && quiet.Before(deadline) {
			deadline, reason = quiet, "silence"
		}
		left := deadline.Sub(r.clock.Now())
		if left <= 0 {
			return spokeNow, reason, nil
		}
		select {
		case <-ctx.Done():
			return spokeNow, "call ended", context.Cause(ctx)
		case <-r.clock.After(left):
		case ev := <-r.call.Events():
			var h heard
			r.event(ev, &h)
			switch {
			case ev.Kind == Digit && ev.Key == endKey:
				return spokeNow, "end key", nil
			case ev.Kind == SpeechStart, ev.Kind == WeakSpeech:
				spokeNow = true
			case ev.Kind == UtteranceEnd:
				quietFrom = r.clock.Now()
			}
		}
	}
}

// promisedHours finds the hours a prompt promises a reply in (「24小时内」,
// "within 24 hours").
func promisedHours(text string) (int, bool) {
	m := promiseRe.FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	h, err := strconv.Atoi(m[1] + m[2])
	return h, err == nil
}

var promiseRe = regexp.MustCompile(`(\d+)\s*小时|(\d+)\s*hours`)
