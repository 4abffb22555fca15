package flows

import (
	"fmt"

	"github.com/goccy/go-yaml"
)

// decodeStrict decodes YAML into v strictly (unknown keys and wrong types
// are errors). goccy/go-yaml v1.19.2, the latest on the module proxy,
// panics on some malformed files instead of returning an error: a tag on a
// scalar where a list or a mapping belongs ("steps: !x", goccy/go-yaml#735,
// found by FuzzParse). A configuration being edited must never crash kefu
// (a reload is refused and the running one stays), so such a panic
// becomes an error.
func decodeStrict(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML cannot be read (look for a ! tag where a list or a mapping belongs): decoder failure: %v", r)
		}
	}()
	return yaml.UnmarshalWithOptions(data, v, yaml.Strict(), yaml.DisallowUnknownField())
}
