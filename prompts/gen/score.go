package main

import (
	"fmt"
	"strconv"
	"strings"
)

// The hold music's score: a calm piece in C major at 75 beats a minute,
// 40 bars of 4/4 (128 s), with a pentatonic melody (C D E G A) over a
// progression that East Asian pop knows well (IV–V–iii–vi). It is written
// for the telephone band: the melody lies between A4 and D6 (440–1175 Hz),
// the chords between B3 and A4, and the bass carries harmonics that a
// phone passes although its fundamental is cut.
const (
	tempo       = 75 // beats per minute
	beatsPerBar = 4
)

// chordTones are the pad's notes (MIDI numbers, C4 = 60) and the bass note
// of each chord, voiced to move little from one chord to the next.
var chordTones = map[string]struct {
	pad  []int
	bass int
}{
	"C":  {[]int{60, 64, 67}, 48},
	"Dm": {[]int{62, 65, 69}, 50},
	"Em": {[]int{59, 64, 67}, 52},
	"F":  {[]int{60, 65, 69}, 53},
	"G":  {[]int{59, 62, 67}, 55},
	"Am": {[]int{60, 64, 69}, 57},
}

// section is a run of bars: a chord per bar and the melody over them,
// written as "note beats" pairs separated by commas, bars by "|"; "-" is a
// rest.
type section struct {
	name   string
	chords string
	melody string
}

var score = []section{
	{"intro", "F G Em Am",
		"- 4 | - 4 | - 4 | - 3, E5 .5, G5 .5"},
	{"A", "F G Em Am Dm G C C",
		"C6 1, A5 1, G5 1, A5 1 | G5 2, D5 1, E5 1 | E5 1.5, D5 .5, E5 1, G5 1 | A5 3, - .5, G5 .5 |" +
			"A5 1, C6 1, A5 1, G5 1 | G5 1.5, E5 .5, D5 2 | E5 1, D5 1, C5 1, D5 1 | C5 3, - 1"},
	{"B", "Am Em F C Dm Em F G",
		"E5 1, A5 1, C6 1, A5 1 | G5 2, E5 1, D5 1 | C5 1, D5 1, A5 2 | G5 3, - 1 |" +
			"D5 1, E5 1, A5 1, G5 1 | E5 1.5, G5 .5, E5 1, D5 1 | C5 2, A4 1, C5 1 | D5 3, E5 .5, G5 .5"},
	{"A'", "F G Em Am Dm G C C",
		"C6 1, A5 .5, C6 .5, D6 1, C6 1 | G5 2, D5 1, E5 1 | E5 1.5, D5 .5, E5 1, G5 1 | A5 2, C6 1, A5 1 |" +
			"A5 1, C6 1, D6 1, C6 1 | G5 1.5, A5 .5, G5 1, D5 1 | E5 1, G5 1, A5 .5, G5 .5, E5 1 | C5 3, - 1"},
	{"B'", "Am Em F C Dm Em F G",
		"C6 1, A5 1, E5 1, A5 1 | G5 2, E5 1, G5 1 | A5 1, G5 1, A5 2 | G5 2, E5 1, D5 1 |" +
			"D5 1, E5 1, A5 1, G5 1 | E5 1.5, G5 .5, E5 1, D5 1 | C5 2, D5 1, E5 1 | D5 3, - 1"},
	{"outro", "F G C C",
		"A5 2, G5 1, E5 1 | D5 4 | C5 4 | - 4"},
}

// note is one note of a voice, in beats from the start of the piece.
type note struct {
	start, beats float64
	midi         int
	vel          float64 // 0..1
}

// parts is the score turned into notes, voice by voice.
type parts struct {
	bars                    int
	pad, bass, harp, melody []note
}

// arpeggio is the harp's eighth-note pattern over a chord's pad tones
// (indices; 3 is the lowest an octave up).
var arpeggio = [8]int{0, 1, 2, 3, 2, 1, 3, 1}

func parseScore() (parts, error) {
	var p parts
	for _, s := range score {
		chords := strings.Fields(s.chords)
		bars := strings.Split(s.melody, "|")
		if len(bars) != len(chords) {
			return p, fmt.Errorf("section %s: %d chords, %d melody bars", s.name, len(chords), len(bars))
		}
		for i, name := range chords {
			ch, ok := chordTones[name]
			if !ok {
				return p, fmt.Errorf("section %s: unknown chord %q", s.name, name)
			}
			bar := float64(p.bars * beatsPerBar)
			p.pad = append(p.pad, chordNotes(bar, ch.pad, beatsPerBar, 0.8)...)
			p.bass = append(p.bass, note{bar, 2, ch.bass, 1}, note{bar + 2, 2, ch.bass, 0.8})
			tones := append(append([]int(nil), ch.pad...), ch.pad[0]+12)
			for k, idx := range arpeggio {
				vel := 0.6
				if k%2 == 0 {
					vel = 0.8
				}
				p.harp = append(p.harp, note{bar + float64(k)/2, 0.5, tones[idx], vel})
			}
			mel, err := parseBar(bars[i], bar)
			if err != nil {
				return p, fmt.Errorf("section %s, bar %d: %w", s.name, i+1, err)
			}
			p.melody = append(p.melody, mel...)
			p.bars++
		}
	}
	p.shapeEnds()
	p.pad = legato(p.pad)
	return p, nil
}

// legato joins a note to the one of the same pitch and velocity that ends
// where it starts, so that a tone common to two chords is held, not struck
// again.
func legato(notes []note) []note {
	var out []note
	ends := map[[2]float64]int{} // {midi, end beat} -> index in out
	for _, n := range notes {
		if i, ok := ends[[2]float64{float64(n.midi), n.start}]; ok && out[i].vel == n.vel {
			delete(ends, [2]float64{float64(n.midi), n.start})
			out[i].beats += n.beats
			ends[[2]float64{float64(n.midi), out[i].start + out[i].beats}] = i
			continue
		}
		out = append(out, n)
		ends[[2]float64{float64(n.midi), n.start + n.beats}] = len(out) - 1
	}
	return out
}

func chordNotes(start float64, midis []int, beats, vel float64) []note {
	out := make([]note, len(midis))
	for i, m := range midis {
		out[i] = note{start, beats, m, vel}
	}
	return out
}

// parseBar reads "C6 1, A5 .5, - 1" starting at beat start; the beats
// must fill the bar.
func parseBar(s string, start float64) ([]note, error) {
	var out []note
	at := start
	for item := range strings.SplitSeq(s, ",") {
		f := strings.Fields(item)
		if len(f) != 2 {
			return nil, fmt.Errorf("want \"note beats\", got %q", item)
		}
		beats, err := strconv.ParseFloat(f[1], 64)
		if err != nil || beats <= 0 {
			return nil, fmt.Errorf("bad length in %q", item)
		}
		if f[0] != "-" {
			m, err := midiNote(f[0])
			if err != nil {
				return nil, err
			}
			out = append(out, note{at, beats, m, 0.85})
		}
		at += beats
	}
	if at-start != beatsPerBar {
		return nil, fmt.Errorf("%q lasts %g beats, want %d", s, at-start, beatsPerBar)
	}
	return out, nil
}

// midiNote parses a note name such as "C4" (60), "A5" or "F#3".
func midiNote(s string) (int, error) {
	steps := map[byte]int{'C': 0, 'D': 2, 'E': 4, 'F': 5, 'G': 7, 'A': 9, 'B': 11}
	if len(s) < 2 {
		return 0, fmt.Errorf("bad note %q", s)
	}
	n, ok := steps[s[0]]
	if !ok {
		return 0, fmt.Errorf("bad note %q", s)
	}
	rest := s[1:]
	switch rest[0] {
	case '#':
		n, rest = n+1, rest[1:]
	case 'b':
		n, rest = n-1, rest[1:]
	}
	oct, err := strconv.Atoi(rest)
	if err != nil {
		return 0, fmt.Errorf("bad note %q", s)
	}
	return 12*(oct+1) + n, nil
}

// shapeEnds shapes the loop's join: the first chord swells in and the harp
// enters on the second eighth; in the last two bars the harp thins out
// and stops and the last chord is played softly, so the loop breathes
// out and in again around the join without going silent.
func (p *parts) shapeEnds() {
	end := float64(p.bars * beatsPerBar)
	var harp []note
	for _, n := range p.harp {
		switch {
		case n.start < 0.5:
		case n.start >= end-2*beatsPerBar && n.start < end-beatsPerBar:
			harp = append(harp, note{n.start, n.beats, n.midi, n.vel * 0.6})
		case n.start >= end-beatsPerBar:
		default:
			harp = append(harp, n)
		}
	}
	p.harp = harp
	for i, n := range p.pad {
		if n.start >= end-beatsPerBar {
			p.pad[i].vel *= 0.6
		}
	}
	for i, n := range p.bass {
		if n.start >= end-beatsPerBar {
			p.bass[i].vel *= 0.5
		}
	}
}
