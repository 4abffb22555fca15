package flows

import (
	"strings"
	"testing"
)

// TestParseSurvivesDecoderPanic: files on which the YAML library panics
// (goccy/go-yaml#735) are refused with an error that names the file, as
// `kefu check` and a reload must report them, rather than crashing kefu.
func TestParseSurvivesDecoderPanic(t *testing.T) {
	for _, src := range []string{
		"routes:\n  - to: \"*\"\n    flow: A\nflows:\n  A:\n    steps: !x\n",
		"flows:\n  A:\n    steps:\n      ! #000000000000000000",
		"routes: !00\n",
	} {
		_, err := Parse("bad.yaml", []byte(src))
		if err == nil || !strings.HasPrefix(err.Error(), "bad.yaml") {
			t.Errorf("%q: %v, want an error naming the file", src, err)
		}
	}
}
