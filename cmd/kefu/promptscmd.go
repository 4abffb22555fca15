package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/kefu-hotline/kefu/prompts"
)

// cmdPrompts lists and checks prompt sets: the embedded ones, or a
// directory ops recorded (the layout of prompts_dir: LANG/prompts.txt and
// the recordings beside it).
func cmdPrompts(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "check") {
		fmt.Fprint(stderr, "usage: kefu prompts list|check [-lang zh-CN] [-dir DIR] [-readings=false]\n")
		return 2
	}
	fs := flag.NewFlagSet("kefu prompts "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("lang", "zh-CN", "prompt set: zh-CN or en")
	dir := fs.String("dir", "", "directory holding LANG/prompts.txt and the recordings (default: the embedded sets)")
	readings := fs.Bool("readings", true, "check how prompts/gen reads each zh text (CS-SPEECH: characters of several readings need a pinyin override); -readings=false for a set recorded by people")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var cat *prompts.Catalog
	var err error
	if *dir != "" {
		cat, err = prompts.LoadDir(os.DirFS(*dir), *lang)
	} else {
		cat, err = prompts.LoadEmbedded(*lang)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if args[0] == "list" {
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "id\tseconds\tlevel dBFS\ttext")
		for _, id := range cat.IDs() {
			p, _ := cat.Get(id)
			fmt.Fprintf(w, "%s\t%.2f\t%s\t%s\n", id, p.Duration().Seconds(), level(p), cat.Render(p, nil))
		}
		_ = w.Flush()
		return 0
	}
	// check: it loaded (every file decodes); now the words and the levels.
	bad := 0
	for _, err := range cat.Lint(prompts.DefaultForbidden()) {
		fmt.Fprintf(stdout, "%v\n", err)
		bad++
	}
	for _, err := range cat.CheckSpeech() {
		if se, ok := errors.AsType[*prompts.SpeechError](err); ok && se.Reading && !*readings {
			continue
		}
		fmt.Fprintf(stdout, "%v\n", err)
		bad++
	}
	for _, id := range cat.IDs() {
		p, _ := cat.Get(id)
		l := speechLevel(p)
		if math.IsInf(l, -1) {
			continue // a pause piece: nothing to measure
		}
		if d := l - prompts.TargetLevel; math.Abs(d) > prompts.LevelTolerance {
			fmt.Fprintf(stdout, "%s: speech level %.1f dBFS, %+.1f dB from %.0f dBFS: it will sound %s than the others; normalise it\n",
				id, l, d, prompts.TargetLevel, map[bool]string{true: "louder", false: "quieter"}[d > 0])
			bad++
		}
	}
	if bad > 0 {
		fmt.Fprintf(stdout, "%s: %d prompt(s), %d problem(s)\n", cat.Lang(), cat.Len(), bad)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d prompts ok (each decodes, no forbidden phrase, {company} doubles no word, %sspeech within ±%.0f dB of %.0f dBFS)\n",
		cat.Lang(), cat.Len(), map[bool]string{true: "every reading decided, "}[*readings && strings.HasPrefix(cat.Lang(), "zh")],
		prompts.LevelTolerance, prompts.TargetLevel)
	return 0
}

func speechLevel(p *prompts.Prompt) float64 {
	var pcm []int16
	for i := range p.Frames() {
		pcm = append(pcm, p.PCM(i)...)
	}
	return prompts.SpeechLevel(pcm)
}

func level(p *prompts.Prompt) string {
	if l := speechLevel(p); !math.IsInf(l, -1) {
		return fmt.Sprintf("%.1f", l)
	}
	return "-"
}
