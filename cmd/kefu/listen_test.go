package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/prompts"
)

// speechSpan returns where the voice in pcm (8 kHz) begins and ends, in
// seconds: the first and the last 20 ms frame above -50 dBFS.
func speechSpan(pcm []int16) (begin, end float64) {
	begin = -1
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		if audio.RMSDB(pcm[i:i+media.FrameSamples]) > -50 {
			if begin < 0 {
				begin = float64(i) / 8000
			}
			end = float64(i+media.FrameSamples) / 8000
		}
	}
	return begin, end
}

// speak returns Mandarin phrases (tone-numbered pinyin) spoken by
// espeak-ng at 8 kHz, each followed by its pause.
func speak(t *testing.T, phrases []string, pauses []time.Duration) []int16 {
	t.Helper()
	espeak := needTool(t, "espeak-ng")
	var pcm []int16
	for i, p := range phrases {
		wav := filepath.Join(t.TempDir(), "phrase.wav")
		if out, err := exec.Command(espeak, "-v", "cmn-latn-pinyin", "-w", wav, p).CombinedOutput(); err != nil {
			t.Fatalf("espeak-ng: %v\n%s", err, out)
		}
		pcm = append(pcm, readAudio(t, wav)...)
		pcm = append(pcm, make([]int16, int(pauses[i].Seconds()*8000))...)
	}
	return pcm
}

// writeCaller writes 8 kHz audio as the WAV a caller plays.
func writeCaller(t *testing.T, pcm []int16) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "caller.wav")
	writeWAVFile(t, file, audio.Format{Rate: 8000, Channels: 1, Encoding: audio.PCM16}, pcm)
	return file
}

// TestIntegrationListen is CS-LISTEN on the real binary with the default
// hotline. The caller answers the opening with a question of five phrases
// (about 10 s, pauses of 350 ms between them): kefu stops the opening
// within 0.3 s of the first word, says nothing while the caller speaks,
// and replies within 1 s after the caller stops. Then, while the main menu
// plays, the caller says something more: the menu stops within 0.3 s.
func TestIntegrationListen(t *testing.T) {
	integration(t)
	t.Parallel()
	const pause = 350 * time.Millisecond
	question := speak(t, []string{
		"ni3 hao3, wo3 xiang3 wen4 yi2 xia4",
		"wo3 shang4 ge4 yue4 de5 zhang4 dan1 you3 wen4 ti2",
		"duo1 kou4 le5 liang3 bai3 kuai4 qian2",
		"wo3 yi3 jing1 da3 guo4 liang3 ci4 dian4 hua4 le5",
		"qing3 ni3 men5 bang1 wo3 cha2 yi2 xia4",
	}, []time.Duration{pause, pause, pause, pause, 0})
	q0, q1 := speechSpan(question)
	cat, err := prompts.LoadEmbedded("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	ack, _ := cat.Get("ack")
	menu, _ := cat.Get("menu.main")
	// The second remark comes about 3 s into the menu: after the
	// question, the end of the utterance (0.8 s) and the acknowledgement.
	gap := time.Duration((float64(len(question))/8000-q1)*float64(time.Second)) + 800*time.Millisecond + ack.Duration() + 3*time.Second
	more := speak(t, []string{"dui4 bu4 qi3"}, []time.Duration{0})
	caller := append(append(question, make([]int16, int(gap.Seconds()*8000))...), more...)
	m0, _ := speechSpan(caller[len(question):])
	m0 += float64(len(question)) / 8000
	t.Logf("question: voice %.2f-%.2f s; the second remark at %.2f s of the caller's audio", q0, q1, m0)

	a := startAgent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	const playAt = 1.0
	evs, out, _ := dialRecorded(t, ctx, a, "-play", writeCaller(t, caller), "-play-at", "1s", "-for", "35s")
	answered, _ := find(evs, "answered")
	at := func(s float64) float64 { return answered.T + playAt + s } // the caller's audio time on the timeline
	st := stretches(evs)
	if len(st) < 3 {
		t.Fatalf("heard %v: want the opening, the reply and the menu\n%s", st, out)
	}
	// 1. The opening stops when the caller starts (0.3 s, and 0.15 s for
	// the measurement: stretch edges are found on 20 ms frames).
	if d := st[0][1] - at(q0); d > 0.45 || d < -0.1 {
		t.Errorf("the opening went on %.2f s after the caller began, want at most 0.3 s", d)
	} else {
		t.Logf("the opening stopped %.2f s after the caller began", d)
	}
	// 2. Nothing while the caller speaks; 3. the reply within 1 s after.
	reply := st[1]
	if reply[0] < at(q1) {
		t.Errorf("kefu spoke at %.2f s, while the caller was speaking (until %.2f s)", reply[0], at(q1))
	}
	if d := reply[0] - at(q1); d > 1.15 {
		t.Errorf("kefu replied %.2f s after the caller stopped, want within 1 s", d)
	} else {
		t.Logf("kefu replied %.2f s after the caller stopped", d)
	}
	// 4. The menu (after the acknowledgement, in the same run of audio or
	// the next) stops when the caller talks over it.
	var menuRun [2]float64
	for _, s := range st[1:] {
		if s[0] <= at(m0) && s[1] >= at(m0)-0.5 {
			menuRun = s
		}
	}
	if menuRun[1] == 0 {
		t.Fatalf("no prompt was playing when the caller spoke again at %.2f s: %v\n%s", at(m0), st, out)
	}
	if d := menuRun[1] - at(m0); d > 0.45 {
		t.Errorf("the menu went on %.2f s after the caller spoke over it, want at most 0.3 s", d)
	} else {
		t.Logf("the menu stopped %.2f s after the caller spoke over it", d)
	}
	if full := reply[0] + (ack.Duration() + menu.Duration()).Seconds(); menuRun[1] > full-1 {
		t.Errorf("the menu ran to its end (%.2f s, full %.2f s)", menuRun[1], full)
	}
	if !a.waitLog(`"barge_in"`, 5*time.Second) {
		t.Errorf("kefu's log has no barge-in")
	}
	if !a.waitLog(`"heard":true`, 40*time.Second) {
		t.Errorf("kefu's log does not record that the caller was heard")
	}
}
