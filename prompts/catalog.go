package prompts

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/kefu-hotline/kefu/prompts/internal/textfile"
)

// DefaultLang is the language LoadEmbedded uses when none is given.
const DefaultLang = "zh-CN"

// TextFile is the name of the text file in a prompt set's directory:
// one prompt per line, "id<TAB>text[<TAB>pinyin overrides]", with blank
// lines and lines starting with '#' ignored.
const TextFile = textfile.Name

// embedded holds the default sets, one directory per language.
//
//go:embed zh-CN en
var embedded embed.FS

// Catalog is a loaded prompt set: every prompt of one language, decoded
// and encoded. It is immutable and safe for concurrent use.
type Catalog struct {
	lang    string
	prompts map[string]*Prompt
	ids     []string
	vars    map[string]string // the values the recordings were made with
	pinyin  map[string]string // id -> the text file's pinyin overrides
}

// Get returns the prompt with the given ID.
func (c *Catalog) Get(id string) (*Prompt, bool) {
	p, ok := c.prompts[id]
	return p, ok
}

// IDs returns the IDs of all prompts, sorted. The caller may modify the
// returned slice.
func (c *Catalog) IDs() []string { return slices.Clone(c.ids) }

// Lang returns the language of the catalog, e.g. "zh-CN".
func (c *Catalog) Lang() string { return c.lang }

// Len returns the number of prompts.
func (c *Catalog) Len() int { return len(c.ids) }

type loaded struct {
	once sync.Once
	c    *Catalog
	err  error
}

var embeddedCache sync.Map // lang -> *loaded

// EmbeddedLangs returns the languages of the embedded default sets.
func EmbeddedLangs() []string {
	entries, _ := embedded.ReadDir(".")
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// LoadEmbedded returns the embedded default prompt set of lang ("zh-CN",
// the default when lang is "", or "en"). Each set is decoded once per
// process and the same read-only Catalog is returned on later calls.
func LoadEmbedded(lang string) (*Catalog, error) {
	if lang == "" {
		lang = DefaultLang
	}
	if !slices.Contains(EmbeddedLangs(), lang) {
		return nil, fmt.Errorf("prompts: no embedded prompt set for language %q (have %s)",
			lang, strings.Join(EmbeddedLangs(), ", "))
	}
	v, _ := embeddedCache.LoadOrStore(lang, new(loaded))
	l := v.(*loaded)
	l.once.Do(func() { l.c, l.err = LoadDir(embedded, lang) })
	return l.c, l.err
}

// LoadDir loads the prompt set of lang from fsys, which is laid out like
// the embedded sets: a directory named after the language holding the text
// file (TextFile) and one recording per prompt, "<id>.mp3" or "<id>.wav".
// For example LoadDir(os.DirFS("/etc/kefu/prompts"), "zh-CN") reads
// /etc/kefu/prompts/zh-CN/prompts.txt and the recordings beside it.
//
// Every recording is decoded. Loading fails if the text file is malformed,
// a prompt has no recording (ErrMissing) or two, a recording has no line
// in the text file, or a file does not decode; the error names each file
// at fault.
func LoadDir(fsys fs.FS, lang string) (*Catalog, error) {
	if lang == "" || strings.ContainsAny(lang, `/\`) || !fs.ValidPath(lang) {
		return nil, fmt.Errorf("prompts: invalid language %q", lang)
	}
	entries, vars, err := readText(fsys, lang)
	if err != nil {
		return nil, err
	}
	files, err := recordings(fsys, lang, entries)
	if err != nil {
		return nil, err
	}

	prompts := make([]*Prompt, len(entries))
	errs := make([]error, len(entries))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, e := range entries {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			prompts[i], errs[i] = loadOne(fsys, lang, e, files[e.ID])
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	c := &Catalog{lang: lang, prompts: make(map[string]*Prompt, len(prompts)), vars: vars, pinyin: map[string]string{}}
	for i, p := range prompts {
		c.prompts[p.ID] = p
		c.ids = append(c.ids, p.ID)
		if entries[i].Pinyin != "" {
			c.pinyin[p.ID] = entries[i].Pinyin
		}
	}
	slices.Sort(c.ids)
	return c, nil
}

func readText(fsys fs.FS, lang string) ([]textfile.Entry, map[string]string, error) {
	name := path.Join(lang, TextFile)
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("prompts: %w", err)
	}
	defer f.Close()
	entries, vars, err := textfile.ParseFile(f)
	if err != nil {
		return nil, nil, fmt.Errorf("prompts: %s: %w", name, err)
	}
	if len(entries) == 0 {
		return nil, nil, fmt.Errorf("prompts: %s: no prompts", name)
	}
	return entries, vars, nil
}

// recordings maps each prompt ID to its recording's path, checking that
// every prompt has exactly one and every recording belongs to a prompt.
func recordings(fsys fs.FS, lang string, entries []textfile.Entry) (map[string]string, error) {
	dir, err := fs.ReadDir(fsys, lang)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	text := path.Join(lang, TextFile)
	want := make(map[string]bool, len(entries))
	for _, e := range entries {
		want[e.ID] = true
	}
	files := make(map[string]string, len(entries))
	var errs []error
	for _, d := range dir {
		ext := strings.ToLower(path.Ext(d.Name()))
		if d.IsDir() || (ext != ".mp3" && ext != ".wav") {
			continue
		}
		name := path.Join(lang, d.Name())
		id := strings.TrimSuffix(d.Name(), path.Ext(d.Name()))
		switch {
		case !want[id]:
			errs = append(errs, fmt.Errorf("prompts: %s: no line for %q in %s", name, id, text))
		case files[id] != "":
			errs = append(errs, fmt.Errorf("prompts: %s and %s: two recordings for prompt %q", files[id], name, id))
		default:
			files[id] = name
		}
	}
	for _, e := range entries {
		if files[e.ID] == "" {
			errs = append(errs, fmt.Errorf("prompts: %s:%d: prompt %q: %w (want %s.mp3 or %s.wav)",
				text, e.Line, e.ID, ErrMissing, path.Join(lang, e.ID), e.ID))
		}
	}
	return files, errors.Join(errs...)
}

func loadOne(fsys fs.FS, lang string, e textfile.Entry, name string) (*Prompt, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	defer f.Close()
	pcm, err := Decode(name, f)
	if err != nil {
		return nil, err
	}
	return NewPrompt(e.ID, lang, e.Text, pcm), nil
}
