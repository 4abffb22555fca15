package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestSimCallerTimelineExact pins detectCaller's whole output on one
// recording: what it gave when the caller's receive chain became
// flows.LineListener (issue 9), with issue 10's changes: the key tone is a
// key and no longer also speech, and each utterance has its onset and its
// end 0.8 s after the last voice. A key (with its frame's level), weak then
// normal speech in one utterance, noise, and speech cut off by the end of
// the recording, which only the trailing lost frames end.
func TestSimCallerTimelineExact(t *testing.T) {
	pcm := simRender(8000, 6.5,
		simBurst{0.5, 0.62, simTones(-10, 770, 1336)},
		simBurst{1.2, 2.2, simSpeech(-45)},
		simBurst{2.2, 3.0, simSpeech(-20)},
		simBurst{3.6, 4.8, simNoise(-25)},
		simBurst{5.6, 6.5, simSpeech(-22)},
	)
	var got []string
	for _, a := range simEvents(t, pcm) {
		got = append(got, fmt.Sprintf("%v %s level=%.2f floor=%.2f key=%q", a.At, a.Event.Kind, a.Event.LevelDB, a.Event.FloorDB, a.Event.Key))
	}
	want := `520ms digit level=-7.08 floor=-96.00 key='5'
1.26s onset level=-47.02 floor=-96.00 key='\x00'
1.44s weak_speech level=-44.46 floor=-96.00 key='\x00'
2.2s speech_start level=-33.31 floor=-52.12 key='\x00'
3.38s speech_end level=-96.00 floor=-96.00 key='\x00'
3.78s utterance_end level=-26.07 floor=-96.00 key='\x00'
3.96s noise level=-25.25 floor=-26.07 key='\x00'
5.66s onset level=-24.02 floor=-96.00 key='\x00'
5.84s speech_start level=-21.79 floor=-96.00 key='\x00'
6.88s speech_end level=-96.00 floor=-96.00 key='\x00'
7.28s utterance_end level=-96.00 floor=-96.00 key='\x00'`
	if g := strings.Join(got, "\n"); g != want {
		t.Errorf("detectCaller:\n%s\nwant:\n%s", g, want)
	}
}
