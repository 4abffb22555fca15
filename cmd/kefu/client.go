package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/store"
	"github.com/kefu-hotline/kefu/ops"
)

// The ops commands (kefu nuisance, kefu calls, kefu loglevel) act on the
// running kefu through its ops API: -api (KEFU_API; else derived from
// KEFU_HTTP, kefu run's own address; else http://127.0.0.1:8080), with
// -token (KEFU_TOKEN) sent as a bearer token. kefu nuisance can instead
// work on a stopped kefu's data directory with -data DIR: the same API
// then runs in-process over the store there, so both ways answer alike.

// apiFlags are the flags that say where the API is.
type apiFlags struct {
	api, token, data string
}

// register adds -api and -token, and -data when withData.
func (f *apiFlags) register(fs *flag.FlagSet, withData bool) {
	fs.StringVar(&f.api, "api", defaultAPI(), "the running kefu's ops API (KEFU_API; default from KEFU_HTTP, else http://127.0.0.1:8080)")
	fs.StringVar(&f.token, "token", os.Getenv("KEFU_TOKEN"), "API token, sent as a bearer token (KEFU_TOKEN)")
	if withData {
		fs.StringVar(&f.data, "data", "", "work on a stopped kefu's data directory instead of the API (the -data of kefu run)")
	}
}

// defaultAPI is KEFU_API, or the address kefu run serves on by KEFU_HTTP
// (a wildcard host reached on loopback), or kefu run's default.
func defaultAPI() string {
	if v := os.Getenv("KEFU_API"); v != "" {
		return v
	}
	if hp := os.Getenv("KEFU_HTTP"); hp != "" {
		if target, err := healthTarget(hp); err == nil {
			return "http://" + target
		}
	}
	return "http://" + defaultHTTP
}

// apiClient calls the ops API.
type apiClient struct {
	base  string // scheme://host:port
	token string
	hc    *http.Client
	where string // what to tell the operator it talked to
	close func() error
}

// client returns the client the flags ask for. With -data the data
// directory must hold a kefu store already: a mistyped path is an error,
// not a new empty store.
func (f *apiFlags) client(ctx context.Context) (*apiClient, error) {
	if f.data != "" {
		return offlineClient(ctx, f.data)
	}
	u, err := url.Parse(f.api)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("-api %q: want the address of kefu run's ops HTTP, e.g. http://127.0.0.1:8080", f.api)
	}
	return &apiClient{base: u.Scheme + "://" + u.Host, token: f.token, hc: &http.Client{Timeout: 30 * time.Second},
		where: "kefu at " + u.Scheme + "://" + u.Host, close: func() error { return nil }}, nil
}

// offlineClient serves the nuisance API in-process over the store in dir.
func offlineClient(ctx context.Context, dir string) (*apiClient, error) {
	db := filepath.Join(dir, store.FileName)
	if _, err := os.Stat(db); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("-data %q: no kefu data there (no %s); give the directory kefu run keeps its data in", dir, store.FileName)
		}
		return nil, fmt.Errorf("-data %q: %w", dir, err)
	}
	st, err := store.Open(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("-data %q: %w", dir, err)
	}
	mux := http.NewServeMux()
	ops.MountNuisance(mux, screen.NewManager(st, time.Now))
	zone, err := time.LoadLocation(flows.DefaultTimezone)
	if err != nil {
		zone = time.Local
	}
	h := ops.API(mux, func() *time.Location { return zone })
	return &apiClient{base: "http://kefu-data", hc: &http.Client{Transport: inProcess{h}}, where: "the data in " + dir, close: st.Close}, nil
}

// inProcess is a RoundTripper that serves requests with a handler.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	w := &memResponse{header: http.Header{}, code: http.StatusOK}
	t.h.ServeHTTP(w, req)
	return &http.Response{StatusCode: w.code, Status: strconv.Itoa(w.code) + " " + http.StatusText(w.code), Header: w.header,
		Body: io.NopCloser(&w.body), ContentLength: int64(w.body.Len()), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// memResponse is a response written in memory.
type memResponse struct {
	header http.Header
	code   int
	wrote  bool
	body   bytes.Buffer
}

func (m *memResponse) Header() http.Header { return m.header }

func (m *memResponse) WriteHeader(code int) {
	if !m.wrote {
		m.code, m.wrote = code, true
	}
}

func (m *memResponse) Write(b []byte) (int, error) {
	m.wrote = true
	return m.body.Write(b)
}

// apiError is an error the API answered.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// call sends a request with body (nil: none) as JSON and decodes the
// answer into out (nil: ignore it). An error answer becomes an error
// with the API's message.
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s (%v): is kefu run serving its ops HTTP there? Say where with -api or KEFU_API", c.where, unwrapURL(err))
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", c.where, err)
	}
	if res.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("%s answered %s to %s %s: is that kefu's ops API?", c.where, res.Status, method, path)
		}
		if res.StatusCode == http.StatusUnauthorized {
			e.Error += " (give it with -token or KEFU_TOKEN)"
		}
		return &apiError{status: res.StatusCode, msg: e.Error}
	}
	if out == nil || res.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: the answer to %s %s is not what kefu sends: %w", c.where, method, path, err)
	}
	return nil
}

// unwrapURL drops the method and URL net/http puts around a transport
// error: the message says where already.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// listAll reads every page of a list endpoint (path may carry a query).
func listAll[T any](ctx context.Context, c *apiClient, path string) ([]T, error) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	all := []T{}
	for {
		var page struct {
			Items []T `json:"items"`
			Total int `json:"total"`
		}
		if err := c.call(ctx, http.MethodGet, fmt.Sprintf("%s%slimit=%d&offset=%d", path, sep, ops.MaxLimit, len(all)), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if len(page.Items) == 0 || len(all) >= page.Total {
			return all, nil
		}
	}
}

// printJSON writes v indented, as the ops commands print their results.
func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// parseVerbFlags parses flags that may come before and after the verb:
// it returns the verb and the arguments after it.
func parseVerbFlags(fs *flag.FlagSet, args []string) (verb string, rest []string, err error) {
	if err := fs.Parse(args); err != nil {
		return "", nil, err
	}
	if fs.NArg() == 0 {
		return "", nil, nil
	}
	verb = fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return "", nil, err
	}
	return verb, fs.Args(), nil
}
