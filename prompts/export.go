package prompts

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// EmbeddedSet returns the files of the embedded default prompt set of lang
// ("" for DefaultLang): its text file (TextFile) and one recording per
// prompt, at the top of the returned file system. Written to
// <dir>/<lang>/ (`kefu prompts export`), they are a prompt set that
// LoadDir reads back, for ops to start their own recordings from.
func EmbeddedSet(lang string) (fs.FS, error) {
	if lang == "" {
		lang = DefaultLang
	}
	if !slices.Contains(EmbeddedLangs(), lang) {
		return nil, fmt.Errorf("prompts: no embedded prompt set for language %q (have %s)",
			lang, strings.Join(EmbeddedLangs(), ", "))
	}
	sub, err := fs.Sub(embedded, lang)
	if err != nil {
		return nil, fmt.Errorf("prompts: embedded set %s: %w", lang, err)
	}
	return sub, nil
}
