package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

// parseUnit reads a systemd unit file: each key's values in order.
func parseUnit(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is no KEY=value", path, line)
		}
		out[k] = append(out[k], v)
	}
	return out
}

// unitEnv is a unit's Environment= settings.
func unitEnv(u map[string][]string) map[string]string {
	env := map[string]string{}
	for _, e := range u["Environment"] {
		for _, kv := range strings.Fields(e) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	return env
}

// TestSystemdUnit: deploy/kefu.service runs kefu as the container does
// (the image's command, data and configuration paths, a user of its own),
// drains on SIGTERM with a stop timeout longer than the grace, reloads on
// ExecReload, and its hardening leaves kefu the sockets RTP needs.
// systemd-analyze verifies it when installed.
func TestSystemdUnit(t *testing.T) {
	unit := repoFile("deploy/kefu.service")
	u := parseUnit(t, unit)
	img := parseImage(t)
	env := unitEnv(u)
	one := func(k string) string {
		if v := u[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}

	if got, want := one("ExecStart"), strings.Join(img.Argv, " "); got != want {
		t.Errorf("ExecStart=%s, the image runs %s", got, want)
	}
	if env["KEFU_DATA"] != img.Env["KEFU_DATA"] || env["KEFU_DATA"] != "/var/lib/"+one("StateDirectory") {
		t.Errorf("KEFU_DATA=%s, StateDirectory=%s, the image's %s: want the same data directory", env["KEFU_DATA"], one("StateDirectory"), img.Env["KEFU_DATA"])
	}
	if dir := filepath.Dir(env["KEFU_CONFIG"]); dir != "/etc/"+one("ConfigurationDirectory") {
		t.Errorf("KEFU_CONFIG=%s is not in ConfigurationDirectory=%s", env["KEFU_CONFIG"], one("ConfigurationDirectory"))
	}
	if user := one("User"); user == "" || user == "root" || user == "0" {
		t.Errorf("User=%q: want a user of kefu's own", user)
	}
	if one("KillSignal") != "SIGTERM" {
		t.Errorf("KillSignal=%s: want SIGTERM, on which kefu drains", one("KillSignal"))
	}
	grace, err := time.ParseDuration(env["KEFU_GRACE"])
	if err != nil {
		grace = defaultRunFlags(t).grace
	}
	stop, err := time.ParseDuration(one("TimeoutStopSec"))
	if err != nil || stop < grace+stopMargin {
		t.Errorf("TimeoutStopSec=%s with a grace of %s: want at least %s", one("TimeoutStopSec"), grace, grace+stopMargin)
	}
	if !regexp.MustCompile(`^/(usr/)?bin/kill -HUP \$MAINPID$`).MatchString(one("ExecReload")) {
		t.Errorf("ExecReload=%s: want /bin/kill -HUP $MAINPID (kefu reloads on SIGHUP)", one("ExecReload"))
	}
	if n, err := strconv.Atoi(one("LimitNOFILE")); err != nil || n < 8192 {
		t.Errorf("LimitNOFILE=%s: one socket per media leg needs more than the 1024 of a default soft limit", one("LimitNOFILE"))
	}
	// Hardening must not take away the sockets: no private network, no
	// address or port filters (RTP goes wherever a call's SDP says).
	for _, k := range []string{"PrivateNetwork", "IPAddressDeny", "IPAddressAllow", "SocketBindDeny", "SocketBindAllow", "RestrictNetworkInterfaces", "ProcSubset"} {
		if v, ok := u[k]; ok {
			t.Errorf("%s=%v would break kefu's sockets or metrics", k, v)
		}
	}
	fams := strings.Fields(one("RestrictAddressFamilies"))
	if !slices.Contains(fams, "AF_INET") || !slices.Contains(fams, "AF_INET6") {
		t.Errorf("RestrictAddressFamilies=%v: kefu needs AF_INET and AF_INET6", fams)
	}
	if one("NoNewPrivileges") != "yes" || one("ProtectSystem") != "strict" {
		t.Errorf("NoNewPrivileges=%s ProtectSystem=%s: want yes, strict", one("NoNewPrivileges"), one("ProtectSystem"))
	}

	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the unit's syntax is not verified (apt-get install systemd)")
		return
	}
	// verify wants the binary to exist: point it at the one the tests build.
	dir := t.TempDir()
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(dir, "kefu.service")
	writeFile(t, local, strings.ReplaceAll(string(b), img.Binary, kefuBinary(t)))
	var out bytes.Buffer
	cmd := exec.Command(sa, "verify", local)
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err != nil || strings.Contains(out.String(), local) {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out.String())
	}
	out.Reset()
	cmd = exec.Command(sa, "security", "--offline=true", local)
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	if m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindStringSubmatch(out.String()); m != nil {
		level, _ := strconv.ParseFloat(m[1], 64)
		t.Logf("systemd-analyze security: exposure %.1f (0 best, 10 worst)", level)
		if level > 2 {
			t.Errorf("exposure level %.1f: the hardening got weaker\n%s", level, out.String())
		}
	}
}

// TestComposeFile: deploy/compose.yaml runs the image with its volume, the
// configuration directory mounted, host networking and a stop grace
// period longer than the calls' grace; it reads the same environment file
// as the systemd unit.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile(repoFile("deploy/compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			NetworkMode     string            `yaml:"network_mode"`
			Environment     map[string]string `yaml:"environment"`
			StopGracePeriod string            `yaml:"stop_grace_period"`
			Volumes         []string          `yaml:"volumes"`
			EnvFile         []struct {
				Path     string `yaml:"path"`
				Required bool   `yaml:"required"`
			} `yaml:"env_file"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	s, ok := c.Services["kefu"]
	if !ok {
		t.Fatal("no service kefu")
	}
	img := parseImage(t)
	unit := parseUnit(t, repoFile("deploy/kefu.service"))
	if s.NetworkMode != "host" {
		t.Errorf("network_mode %q: want host (RTP's port range)", s.NetworkMode)
	}
	grace, err := time.ParseDuration(s.Environment["KEFU_GRACE"])
	if err != nil {
		t.Fatalf("KEFU_GRACE: %v", err)
	}
	stop, err := time.ParseDuration(s.StopGracePeriod)
	if err != nil || stop < grace+stopMargin {
		t.Errorf("stop_grace_period %s with KEFU_GRACE %s: want at least %s", s.StopGracePeriod, grace, grace+stopMargin)
	}
	var data, conf bool
	for _, v := range s.Volumes {
		f := strings.Split(v, ":")
		if len(f) >= 2 && f[1] == img.Env["KEFU_DATA"] {
			_, named := c.Volumes[f[0]]
			data = named
		}
		if len(f) >= 2 && f[1] == filepath.Dir(s.Environment["KEFU_CONFIG"]) {
			conf = true
		}
	}
	if !data {
		t.Errorf("volumes %v: want a named volume on %s", s.Volumes, img.Env["KEFU_DATA"])
	}
	if !conf {
		t.Errorf("volumes %v: want the directory of KEFU_CONFIG=%s mounted (a file mount misses an editor's new file)", s.Volumes, s.Environment["KEFU_CONFIG"])
	}
	envFile := strings.TrimPrefix(unit["EnvironmentFile"][0], "-")
	if len(s.EnvFile) != 1 || s.EnvFile[0].Path != envFile {
		t.Errorf("env_file %v: want the unit's %s", s.EnvFile, envFile)
	}
}

// TestEnvFile: deploy/kefu.env names only settings kefu run reads, and its
// values (the commented examples too) are accepted by kefu run.
func TestEnvFile(t *testing.T) {
	f, err := os.Open(repoFile("deploy/kefu.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defaultRunFlags(t) // clears KEFU_* from the test's environment
	var help bytes.Buffer
	if _, err := parseRunFlags([]string{"-h"}, &help); err == nil {
		t.Fatal("kefu run -h: no ErrHelp")
	}
	keys := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "#")
		k, v, ok := strings.Cut(line, "=")
		if !ok || !regexp.MustCompile(`^KEFU_[A-Z_]+$`).MatchString(k) {
			continue
		}
		keys++
		if !strings.Contains(help.String(), "("+k+")") && !strings.Contains(help.String(), "("+k+"=") {
			t.Errorf("%s is not a setting of kefu run", k)
		}
		t.Setenv(k, v)
	}
	if keys < 3 {
		t.Fatalf("only %d settings found", keys)
	}
	rf, err := parseRunFlags(nil, &help)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := parsePorts(rf.rtpPorts); err != nil {
		t.Error(err)
	}
	if _, err := floodGuard(rf); err != nil {
		t.Error(err)
	}
}
