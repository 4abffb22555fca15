package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/kefu-hotline/kefu/prompts"
)

// cmdPrompts lists and checks prompt sets: the embedded ones, or a
// directory ops recorded (the layout of prompts_dir: LANG/prompts.txt and
// the recordings beside it).
func cmdPrompts(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "export" {
		return cmdPromptsExport(args[1:], stdout, stderr)
	}
	if len(args) == 0 || (args[0] != "list" && args[0] != "check") {
		fmt.Fprint(stderr, "usage: kefu prompts list|check [-lang zh-CN] [-dir DIR] [-readings=false]\n       kefu prompts export [-lang zh-CN] DIR\n")
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

// cmdPromptsExport writes an embedded prompt set to DIR/LANG (the text file
// and the recordings), for ops to replace recordings and edit texts without
// the source tree, then load with prompts_dir: DIR.
func cmdPromptsExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu prompts export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("lang", prompts.DefaultLang, "the embedded set to write: "+strings.Join(prompts.EmbeddedLangs(), " or "))
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: kefu prompts export [-lang zh-CN] DIR\n\nWrites the embedded prompt set to DIR/LANG (prompts.txt and one recording per prompt),\nfor a configuration's prompts_dir: DIR.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitForParse(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	set, err := prompts.EmbeddedSet(*lang)
	if err != nil {
		fmt.Fprintln(stderr, "kefu prompts export:", err)
		return 1
	}
	dst := filepath.Join(fs.Arg(0), *lang)
	// Never write over a set ops may have recorded already.
	if entries, err := os.ReadDir(dst); err == nil && len(entries) > 0 {
		fmt.Fprintf(stderr, "kefu prompts export: %s is not empty; export to a new directory\n", dst)
		return 1
	}
	if err := os.CopyFS(dst, set); err != nil {
		fmt.Fprintln(stderr, "kefu prompts export:", err)
		return 1
	}
	files, _ := iofs.ReadDir(set, ".")
	n := len(files)
	fmt.Fprintf(stdout, "wrote %d files to %s\nnext: edit %s, replace recordings (<id>.mp3 or <id>.wav, one per prompt),\n      kefu prompts check -dir %s -lang %s -readings=false,\n      then set prompts_dir: %s and language: %s in the configuration\n",
		n, dst, filepath.Join(dst, prompts.TextFile), fs.Arg(0), *lang, fs.Arg(0), *lang)
	return 0
}
