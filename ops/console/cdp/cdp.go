// Package cdp drives a headless Chromium over the Chrome DevTools
// Protocol, just enough for the ops console's browser tests: start the
// browser, open a page, evaluate JavaScript in it, wait for a condition,
// take a screenshot. It speaks the protocol's JSON over the browser's
// WebSocket (--remote-debugging-port) and keeps the page's exceptions and
// console messages for the test's log.
package cdp

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Browser is a running Chromium and the connection to it.
type Browser struct {
	cmd  *exec.Cmd
	dir  string // its profile, removed by Close
	conn net.Conn
	rw   io.ReadWriter

	wmu    sync.Mutex // one message at a time on the socket
	mu     sync.Mutex
	nextID int64
	calls  map[int64]chan reply
	logs   map[string][]string // session → its exceptions and console lines
	err    error               // why the connection ended
	done   chan struct{}
	exited chan struct{}
}

// reply is the answer to one command.
type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Options are how the browser starts.
type Options struct {
	Width, Height int      // the window; default 1400×900
	Args          []string // more command-line flags
	Stderr        io.Writer
}

// Launch starts the Chromium at path headless, with a fresh profile and
// no network but loopback, and connects to it. Close stops it.
func Launch(ctx context.Context, path string, o Options) (*Browser, error) {
	if o.Width == 0 {
		o.Width, o.Height = 1400, 900
	}
	dir, err := os.MkdirTemp("", "kefu-chromium")
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--disable-sync", "--disable-component-update",
		"--user-data-dir=" + dir, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
		fmt.Sprintf("--window-size=%d,%d", o.Width, o.Height), "about:blank",
	}, o.Args...)
	cmd := exec.Command(path, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	b := &Browser{cmd: cmd, dir: dir, calls: map[int64]chan reply{}, logs: map[string][]string{},
		done: make(chan struct{}), exited: make(chan struct{})}
	// Chromium prints where it listens on stderr; the rest goes on to
	// o.Stderr.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, "DevTools listening on "); ok {
				select {
				case found <- strings.TrimSpace(u):
				default:
				}
				continue
			}
			if o.Stderr != nil {
				fmt.Fprintln(o.Stderr, line)
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(b.exited)
	}()
	var url string
	select {
	case url = <-found:
	case <-b.exited:
		b.Close()
		return nil, errors.New("chromium exited before it listened")
	case <-ctx.Done():
		b.Close()
		return nil, fmt.Errorf("chromium did not start: %w", ctx.Err())
	}
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("connect to chromium: %w", err)
	}
	b.conn = conn
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	b.rw = struct {
		io.Reader
		io.Writer
	}{r, lockedWriter{&b.wmu, conn}}
	go b.read()
	return b, nil
}

// lockedWriter keeps the replies to control frames from interleaving with
// commands.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// message is anything the browser sends: a reply (ID) or an event.
type message struct {
	ID        int64           `json:"id"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	SessionID string          `json:"sessionId"`
	reply
}

func (b *Browser) read() {
	defer close(b.done)
	for {
		data, _, err := wsutil.ReadServerData(b.rw)
		if err != nil {
			b.mu.Lock()
			b.err = err
			for id, ch := range b.calls {
				close(ch)
				delete(b.calls, id)
			}
			b.mu.Unlock()
			return
		}
		var m message
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		if m.ID != 0 {
			b.mu.Lock()
			ch := b.calls[m.ID]
			delete(b.calls, m.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- m.reply
			}
			continue
		}
		if line := logLine(m.Method, m.Params); line != "" {
			b.mu.Lock()
			b.logs[m.SessionID] = append(b.logs[m.SessionID], line)
			b.mu.Unlock()
		}
	}
}

// logLine is an exception or console message as a line of text.
func logLine(method string, params json.RawMessage) string {
	switch method {
	case "Runtime.exceptionThrown":
		var p struct {
			Details struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		_ = json.Unmarshal(params, &p)
		return "exception: " + p.Details.Text + " " + p.Details.Exception.Description
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		_ = json.Unmarshal(params, &p)
		var parts []string
		for _, a := range p.Args {
			if a.Value != nil {
				parts = append(parts, fmt.Sprint(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		return "console." + p.Type + ": " + strings.Join(parts, " ")
	}
	return ""
}

// call sends a command (to a page's session, or the browser's when
// session is "") and decodes its result into out (may be nil).
func (b *Browser) call(ctx context.Context, session, method string, params, out any) error {
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return fmt.Errorf("%s: the connection to chromium ended: %w", method, b.err)
	}
	b.nextID++
	id := b.nextID
	ch := make(chan reply, 1)
	b.calls[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if params == nil {
		msg["params"] = struct{}{}
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	b.wmu.Lock()
	err = wsutil.WriteClientText(b.conn, data)
	b.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: the connection to chromium ended", method)
		}
		if r.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, r.Error.Message, r.Error.Code)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.calls, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Close stops the browser and removes its profile.
func (b *Browser) Close() {
	if b.conn != nil {
		_ = b.conn.Close()
		<-b.done
	}
	if b.cmd.Process != nil {
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
	_ = os.RemoveAll(b.dir)
}

// Page is one tab.
type Page struct {
	b       *Browser
	target  string
	session string
}

// NewPage opens a tab on about:blank with its own storage (sessionStorage
// is per tab).
func (b *Browser) NewPage(ctx context.Context) (*Page, error) {
	var t struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &t); err != nil {
		return nil, err
	}
	var s struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": t.TargetID, "flatten": true}, &s); err != nil {
		return nil, err
	}
	p := &Page{b: b, target: t.TargetID, session: s.SessionID}
	for _, m := range []string{"Runtime.enable", "Page.enable"} {
		if err := p.call(ctx, m, nil, nil); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *Page) call(ctx context.Context, method string, params, out any) error {
	return p.b.call(ctx, p.session, method, params, out)
}

// Navigate loads url and waits until the document has loaded.
func (p *Page) Navigate(ctx context.Context, url string) error {
	var r struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.call(ctx, "Page.navigate", map[string]any{"url": url}, &r); err != nil {
		return err
	}
	if r.ErrorText != "" {
		return fmt.Errorf("navigate to %s: %s", url, r.ErrorText)
	}
	return p.WaitFor(ctx, `document.readyState === "complete"`)
}

// Eval evaluates a JavaScript expression in the page (awaiting it when it
// is a promise) and decodes its value into out (may be nil).
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("eval %q: %s %s", expr, r.Exception.Text, r.Exception.Exception.Description)
	}
	if out != nil && len(r.Result.Value) > 0 {
		return json.Unmarshal(r.Result.Value, out)
	}
	return nil
}

// pollEvery is how often WaitFor looks again.
const pollEvery = 25 * time.Millisecond

// WaitFor waits until the expression is truthy in the page, or ctx ends.
func (p *Page) WaitFor(ctx context.Context, expr string) error {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		var ok bool
		if err := p.Eval(ctx, "!!("+expr+")", &ok); err != nil && ctx.Err() == nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", expr, ctx.Err())
		case <-t.C:
		}
	}
}

// Screenshot returns the visible page as PNG.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := p.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// Log returns the page's exceptions and console messages so far.
func (p *Page) Log() []string {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	return append([]string(nil), p.b.logs[p.session]...)
}
