package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	neturl "net/url"
	"strings"
	"time"
)

// defaultHTTP is the ops address of kefu run and kefu health: loopback,
// since the ops API has no tokens yet.
const defaultHTTP = "127.0.0.1:8080"

// cmdHealth asks a running kefu's ops address whether it serves: the
// container's HEALTHCHECK (the image has no curl). Exit 0 when /healthz
// answers 200, 1 otherwise.
func cmdHealth(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("http", env("KEFU_HTTP", defaultHTTP), "ops HTTP address of the kefu to ask, as given to kefu run (KEFU_HTTP); 0.0.0.0 and :: are asked on loopback")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	ready := fs.Bool("ready", false, "ask /readyz (takes new calls; 503 while draining) instead of /healthz")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: kefu health [-http ADDR] [-timeout 3s] [-ready]\n\nExits 0 if the kefu at the ops address is healthy (ready, with -ready), 1 if not.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitForParse(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	target, err := healthTarget(*addr)
	if err != nil {
		fmt.Fprintln(stderr, "kefu health:", err)
		return 2
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	url := "http://" + target + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "kefu health:", err)
		return 2
	}
	// No proxy from the environment: the ops address is local.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*neturl.Error](err); ok {
			err = ue.Err // it names the URL again
		}
		fmt.Fprintf(stderr, "kefu health: %s: %v\n", url, err)
		return 1
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	line := strings.TrimSpace(string(body))
	if res.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "kefu health: %s: %s %s\n", url, res.Status, line)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %s\n", url, line)
	return 0
}

// healthTarget is the address to ask for a kefu listening on addr: an
// unspecified host (0.0.0.0, ::, none) is asked on loopback.
func healthTarget(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("-http %q: want HOST:PORT, e.g. %s: %w", addr, defaultHTTP, err)
	}
	if host == "" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		if ip.Is4() {
			return net.JoinHostPort("127.0.0.1", port), nil
		}
		return net.JoinHostPort("::1", port), nil
	}
	return net.JoinHostPort(host, port), nil
}

// exitForParse is the exit code for a flag parsing error: 0 for -h (the
// usage was asked for and printed), 2 otherwise.
func exitForParse(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
