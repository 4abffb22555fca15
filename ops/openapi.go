package ops

import (
	"bytes"
	_ "embed" // the OpenAPI document
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/goccy/go-yaml"
)

// openAPIYAML documents every endpoint of the ops HTTP surface; a test
// keeps it in step with the routes.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPI returns the OpenAPI 3.1 document of the API as JSON.
var OpenAPI = sync.OnceValues(func() ([]byte, error) {
	j, err := yaml.YAMLToJSON(openAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("ops: openapi.yaml: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, j, "", "  "); err != nil {
		return nil, fmt.Errorf("ops: openapi.yaml as JSON: %w", err)
	}
	return out.Bytes(), nil
})

// MountOpenAPI serves the document: GET /api/openapi.json and
// /api/openapi.yaml.
func MountOpenAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		doc, err := OpenAPI()
		if err != nil {
			fail(w, r, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
	mux.HandleFunc("GET /api/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openAPIYAML)
	})
}
