package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The conventions every endpoint of the API keeps:
//
//   - A body is JSON: a success is the resource, an error is
//     {"error": "..."} with the status it deserves, for unknown paths (404)
//     and wrong methods (405, with Allow) too. No Go type names.
//   - Times carry the hotline's time zone and its offset (the running
//     configuration's timezone), e.g. 2026-03-02T09:00:00+08:00.
//   - A list of records (the nuisance list, flags, proposals, callbacks,
//     complaints, survey answers) comes newest first, a page at a time:
//     {"items": [...], "total": N, "limit": L, "offset": O} with
//     ?limit= (default DefaultLimit, at most MaxLimit) and ?offset=. A
//     list of the live state (calls, agents, queues) is a plain array.
//     An empty list is [], never null.
//   - Query parameters an endpoint does not know are refused (400), so a
//     misspelt filter is not silently ignored.

// Page limits of the lists.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// API wraps the ops mux for serving: unknown paths and methods get JSON
// errors (405 with Allow), and the handlers write times in the zone zone
// returns at each request (the running configuration's; nil: as stored).
func API(mux *http.ServeMux, zone func() *time.Location) http.Handler {
	return &apiHandler{mux: mux, zone: zone}
}

type apiHandler struct {
	mux  *http.ServeMux
	zone func() *time.Location
}

type zoneKey struct{}

func (h *apiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.zone != nil {
		if loc := h.zone(); loc != nil {
			r = r.WithContext(withZone(r.Context(), loc))
		}
	}
	if _, pattern := h.mux.Handler(r); pattern != "" {
		h.mux.ServeHTTP(w, r)
		return
	}
	// No route: let the mux decide between 404, 405 and a redirect to the
	// clean path, and put its answer in JSON.
	rec := &recorder{header: http.Header{}}
	h.mux.ServeHTTP(rec, r)
	switch rec.code {
	case http.StatusNotFound:
		fail(w, r, http.StatusNotFound, "no endpoint "+r.URL.Path+"; see /api/openapi.json")
	case http.StatusMethodNotAllowed:
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		fail(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
	default:
		rec.copyTo(w)
	}
}

// withZone returns ctx carrying the zone responses write times in.
func withZone(ctx context.Context, loc *time.Location) context.Context {
	return context.WithValue(ctx, zoneKey{}, loc)
}

// recorder keeps a response in memory.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) copyTo(w http.ResponseWriter) {
	maps.Copy(w.Header(), r.header)
	if r.code == 0 {
		r.code = http.StatusOK
	}
	w.WriteHeader(r.code)
	_, _ = w.Write(r.body.Bytes())
}

// errorJSON is every error's body.
type errorJSON struct {
	Error string `json:"error"`
}

// respond writes v as JSON with code, its times in the request's zone.
func respond(w http.ResponseWriter, r *http.Request, code int, v any) {
	if loc, ok := r.Context().Value(zoneKey{}).(*time.Location); ok && v != nil {
		v = inZone(reflect.ValueOf(v), loc).Interface()
	}
	writeJSON(w, code, v)
}

// fail writes an error body.
func fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	respond(w, r, code, errorJSON{Error: msg})
}

// requestError is a request the API refuses, with its status.
type requestError struct {
	code int
	msg  string
}

func (e *requestError) Error() string { return e.msg }

// badRequest is a 400 for a bad parameter, path value or body field.
func badRequest(name, format string, args ...any) error {
	return &requestError{code: http.StatusBadRequest, msg: name + ": " + fmt.Sprintf(format, args...)}
}

// failed writes err if it is a *requestError and reports whether it was.
func failed(w http.ResponseWriter, r *http.Request, err error) bool {
	var re *requestError
	if !errors.As(err, &re) {
		return false
	}
	fail(w, r, re.code, re.msg)
	return true
}

var timeType = reflect.TypeFor[time.Time]()

// inZone returns a copy of v with every time in it (a field, an element,
// behind a pointer) moved to loc; zero times stay zero. Unexported fields
// are copied as they are.
func inZone(v reflect.Value, loc *time.Location) reflect.Value {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			t := v.Interface().(time.Time)
			if t.IsZero() {
				return v
			}
			return reflect.ValueOf(t.In(loc))
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if f := out.Field(i); f.CanSet() {
				f.Set(inZone(v.Field(i), loc))
			}
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(inZone(v.Elem(), loc))
		return p
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(inZone(v.Index(i), loc))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			out.Index(i).Set(inZone(v.Index(i), loc))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), inZone(it.Value(), loc))
		}
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(inZone(v.Elem(), loc))
		return out
	}
	return v
}

// query parses r's query, which may hold only the parameters named in
// allowed, each at most once.
func query(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("query", "malformed: %v", r.URL.RawQuery)
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return nil, badRequest(name, "unknown parameter; this endpoint takes none")
			}
			return nil, badRequest(name, "unknown parameter; want %s", strings.Join(allowed, ", "))
		}
		if len(q[name]) > 1 {
			return nil, badRequest(name, "given more than once")
		}
	}
	return q, nil
}

// flag reads a boolean parameter (1, true, 0, false); absent is false.
func flag(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest(name, "%q: want 1 or 0", v)
	}
	return b, nil
}

// page is the part of a list asked for.
type page struct{ limit, offset int }

// pageParams reads ?limit= and ?offset=.
func pageParams(q url.Values) (page, error) {
	p := page{limit: DefaultLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return page{}, badRequest("limit", "%q: want an integer from 1 to %d", v, MaxLimit)
		}
		p.limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return page{}, badRequest("offset", "%q: want an integer from 0", v)
		}
		p.offset = n
	}
	return p, nil
}

// pageJSON is one page of a list.
type pageJSON[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`  // items in the whole list
	Limit  int `json:"limit"`  // at most this many in items
	Offset int `json:"offset"` // items skipped before the first of this page
}

// pageOf returns the page p of all, which is in list order.
func pageOf[T any](all []T, p page) pageJSON[T] {
	lo := min(p.offset, len(all))
	hi := min(lo+p.limit, len(all))
	items := slices.Clone(all[lo:hi])
	if items == nil {
		items = []T{}
	}
	return pageJSON[T]{Items: items, Total: len(all), Limit: p.limit, Offset: p.offset}
}

// decodeBody reads r's body, one JSON value of at most max bytes with no
// field v does not have, into v. Its errors say what is wrong in JSON's
// words ("want a number"), never Go's.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, max int64) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return badRequest("body", "more than one JSON value")
		}
		return nil
	}
	var (
		syn   *json.SyntaxError
		typ   *json.UnmarshalTypeError
		large *http.MaxBytesError
	)
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("body", "empty; want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body", "cut short; want a whole JSON object")
	case errors.As(err, &large):
		return &requestError{code: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("body: larger than %d bytes", max)}
	case errors.As(err, &syn):
		return badRequest("body", "not JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("body", "want %s, got %s", jsonKind(typ.Type), typ.Value)
		}
		return badRequest(typ.Field, "want %s, got %s", jsonKind(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("body", "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	// A type's own UnmarshalJSON (an action, a state) says what it wants.
	return badRequest("body", "%s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names the JSON a Go type is read from.
func jsonKind(t reflect.Type) string {
	if t == timeType {
		return "an RFC 3339 time"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "another value"
}
