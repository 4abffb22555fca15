package amd

import (
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/prompts"
)

// TestNamedCases are the cases the issue names: a person saying 「喂,你好,
// 哪位?」 (about 1.5 s) and then waiting is a person, decided within a
// second of the greeting's end; a 6 s voicemail greeting and then a 1 kHz
// beep is a machine, decided before the greeting is over.
func TestNamedCases(t *testing.T) {
	wei := clip(t, "h-zh-wei-nihao-nawei")
	d := run(t, DefaultOptions(), new(line).quiet(400*time.Millisecond).speech(wei).quiet(6*time.Second).over("hiss", -60, 7))
	end := 400*time.Millisecond + time.Duration(len(wei))*time.Second/media.SampleRate
	if d.Verdict != Human || d.After > end+time.Second {
		t.Errorf("喂,你好,哪位: %+v (greeting ends at %v)", d, end)
	}
	vm := clip(t, "m-zh-carrier")
	d = run(t, DefaultOptions(), new(line).quiet(400*time.Millisecond).speech(vm).quiet(500*time.Millisecond).tone(1000, -12, 600*time.Millisecond).quiet(3*time.Second).over("silence", 0, 7))
	if d.Verdict != Machine || d.Reason != ReasonLongGreeting || d.After > 400*time.Millisecond+3*time.Second {
		t.Errorf("6 s greeting and a beep: %+v", d)
	}
}

// TestMiddleGreeting: a greeting between Greeting and LongGreeting is a
// person's only when no beep follows within BeepWait.
func TestMiddleGreeting(t *testing.T) {
	two := append(append(clip(t, "h-zh-wei-nihao-nawei"), make([]int16, samples(200*time.Millisecond))...), clip(t, "h-zh-wei")...)
	d := run(t, DefaultOptions(), new(line).quiet(300*time.Millisecond).speech(two).quiet(6*time.Second).over("hiss", -60, 3))
	if d.Verdict != Human || d.Reason != ReasonGreetingPause {
		t.Errorf("a 2.1 s greeting, then nothing: %+v", d)
	}
	d = run(t, DefaultOptions(), new(line).quiet(300*time.Millisecond).speech(two).quiet(1200*time.Millisecond).tone(1000, -12, 500*time.Millisecond).quiet(3*time.Second).over("hiss", -60, 3))
	if d.Verdict != Machine || d.Reason != ReasonBeep {
		t.Errorf("a 2.1 s greeting, then a beep 1.2 s later: %+v", d)
	}
}

// TestNoAudio: a phone that sends nothing (only lost frames) is a person
// waiting after Silence; comfort noise too.
func TestNoAudio(t *testing.T) {
	for _, cn := range []bool{false, true} {
		d, err := New(DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		var dec Decision
		ok := false
		for i := 0; !ok && i < 1000; i++ {
			if cn {
				dec, ok = d.ComfortNoise(70)
			} else {
				dec, ok = d.Lost()
			}
		}
		if dec.Verdict != Human || dec.Reason != ReasonSilence || dec.After != DefaultSilence {
			t.Errorf("comfort noise %v: %+v", cn, dec)
		}
	}
}

// TestKeyAndTimeout: an out-of-band key is a person; so is a line on
// which the frames stopped before anything was decided; a decision stays.
func TestKeyAndTimeout(t *testing.T) {
	d, _ := New(DefaultOptions())
	if dec := d.Key(); dec.Verdict != Human || dec.Reason != ReasonKey {
		t.Errorf("key: %+v", dec)
	}
	if dec := d.Timeout(); dec.Reason != ReasonKey {
		t.Errorf("a decision changed: %+v", dec)
	}
	d, _ = New(DefaultOptions())
	if dec := d.Timeout(); dec.Verdict != Human || dec.Reason != ReasonMaxListen {
		t.Errorf("timeout: %+v", dec)
	}
}

// TestOptions: the defaults are valid, nonsense is refused.
func TestOptions(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func(*Options){
		func(o *Options) { o.Silence = 0 },
		func(o *Options) { o.LongGreeting = o.Greeting - time.Millisecond },
		func(o *Options) { o.Beep = 10 * time.Millisecond },
		func(o *Options) { o.MaxListen = time.Second },
		func(o *Options) { o.EndSilence = time.Minute },
	} {
		o := DefaultOptions()
		f(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// TestPrompts plays every embedded prompt (zh-CN and en: kefu's own
// espeak-ng voice, 0.3 to 12 s) as what answers the call: none holds a
// beep; those speaking for more than 3 s are machines, those under 1.5 s
// persons (in between may go either way).
func TestPrompts(t *testing.T) {
	if raceOn {
		t.Skip("single-goroutine and slow under the race detector (decoding the prompt sets): run without -race")
	}
	var n, right, beeps, maxRun int
	for _, lang := range prompts.EmbeddedLangs() {
		c, err := prompts.LoadEmbedded(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range c.IDs() {
			p, _ := c.Get(id)
			var pcm []int16
			for i := range p.Frames() {
				pcm = append(pcm, p.PCM(i)...)
			}
			speech := spoken(pcm)
			var b beep
			for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
				maxRun = max(maxRun, int(b.frame(pcm[i:i+media.FrameSamples])))
			}
			d := run(t, DefaultOptions(), new(line).quiet(300*time.Millisecond).speech(pcm).quiet(5*time.Second).over("hiss", -60, 1))
			if d.Reason == ReasonBeep {
				beeps++
				t.Errorf("%s/%s: a beep in a prompt (%+v)", lang, id, d)
			}
			want := Undecided
			switch {
			case speech > 3*time.Second:
				want = Machine
			case speech < 1500*time.Millisecond:
				want = Human
			default:
				continue
			}
			n++
			if d.Verdict == want {
				right++
			} else {
				t.Errorf("%s/%s (%.2f s of speech): %+v, want %s", lang, id, speech.Seconds(), d, want)
			}
		}
	}
	t.Logf("prompts: %d/%d judged right; beeps found in speech: %d; longest pure-tone run in speech: %d frames (a beep needs %d)",
		right, n, beeps, maxRun, frames(DefaultBeep))
}

// spoken is the time from the first to the last frame within 30 dB of
// the loudest.
func spoken(pcm []int16) time.Duration {
	loud := -200.0
	var lv []float64
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		l := audio.RMSDB(pcm[i : i+media.FrameSamples])
		lv = append(lv, l)
		loud = max(loud, l)
	}
	first, last := -1, -1
	for i, l := range lv {
		if l > loud-30 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return 0
	}
	return time.Duration(last-first+1) * media.FrameDur
}
