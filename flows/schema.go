package flows

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"
	"github.com/kefu-hotline/kefu/flows/calendar"
)

// Schema returns the JSON Schema of the configuration file, for editors
// (yaml-language-server and the like): unknown keys are not allowed, as at
// load time.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true, // nothing is required by the schema: defaults fill in
		ExpandedStruct:             true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			switch t {
			case reflect.TypeFor[Duration](), reflect.TypeFor[*Duration]():
				return &jsonschema.Schema{Type: "string", Pattern: `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`, Description: "a duration like 5s or 500ms"}
			case reflect.TypeFor[Membership]():
				level := &jsonschema.Schema{Type: "integer", Enum: []any{1, 2}, Description: "1: offered first; 2: when no level-1 agent is free"}
				props := jsonschema.NewProperties()
				props.Set("name", &jsonschema.Schema{Type: "string"})
				props.Set("level", level)
				return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
					{Type: "string", Description: "a queue name"},
					{Type: "object", Properties: props, Required: []string{"name"}, AdditionalProperties: jsonschema.FalseSchema},
				}}
			case reflect.TypeFor[calendar.Date]():
				return &jsonschema.Schema{Type: "string", Format: "date", Description: "a date like 2026-02-15"}
			case reflect.TypeFor[calendar.Holiday]():
				var names []any
				for _, n := range calendar.HolidayNames() {
					names = append(names, n)
				}
				return &jsonschema.Schema{Type: "string", Enum: names}
			}
			return nil
		},
	}
	s := r.Reflect(&Config{})
	s.Title = "kefu configuration"
	s.Description = "Call flows, routes and settings of kefu; see `kefu config default`."
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return b, nil
}
