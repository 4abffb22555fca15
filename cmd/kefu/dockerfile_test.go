package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Dockerfile and deploy/ are checked against kefu's defaults here, by
// parsing them; container_test.go runs the image's steps.

const (
	// dockerStopTimeout is how long `docker stop` waits after STOPSIGNAL
	// before it kills, unless told otherwise (-t, --stop-timeout,
	// compose's stop_grace_period).
	dockerStopTimeout = 10 * time.Second
	// stopMargin is what kefu needs after the grace: hang up the calls
	// left (BYE), close the ops server (up to 2 s) and the store.
	stopMargin = 3 * time.Second
	// imageUID is the uid of distroless's nonroot user, the image's USER.
	imageUID = 65532
)

// dockerInstr is one Dockerfile instruction, continuation lines joined.
type dockerInstr struct {
	Line int    // where it starts
	Cmd  string // upper case: FROM, RUN, ENV, ...
	Args string
}

// repoFile is the path of a file at the module root.
func repoFile(name string) string { return filepath.Join("..", "..", name) }

func parseDockerfile(t *testing.T, path string) []dockerInstr {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []dockerInstr
	var cur *dockerInstr
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cur == nil {
			cmd, args, _ := strings.Cut(line, " ")
			out = append(out, dockerInstr{Line: n, Cmd: strings.ToUpper(cmd)})
			cur, line = &out[len(out)-1], args
		}
		more := strings.HasSuffix(line, `\`)
		cur.Args = strings.TrimSpace(cur.Args + " " + strings.TrimSuffix(line, `\`))
		if !more {
			cur = nil
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// image is what the Dockerfile's final stage says about the container.
type image struct {
	Build       string            // the build stage's go build command line
	Binary      string            // where the binary is copied to
	User        string            // USER
	Env         map[string]string // ENV
	Volumes     []string
	Expose      []string
	StopSignal  string
	Healthcheck []string // the exec form's argv
	HealthOpts  map[string]string
	Argv        []string // ENTRYPOINT + CMD
	ChownData   bool     // the data directory is copied in with --chown to USER
}

func parseImage(t *testing.T) image {
	t.Helper()
	ins := parseDockerfile(t, repoFile("Dockerfile"))
	last := -1
	for i, in := range ins {
		if in.Cmd == "FROM" {
			last = i
		}
	}
	if last < 1 {
		t.Fatal("Dockerfile: want a build stage and a final stage")
	}
	img := image{Env: map[string]string{}, HealthOpts: map[string]string{}}
	for _, in := range ins[:last] {
		if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
			img.Build, _, _ = strings.Cut(in.Args, " &&")
		}
	}
	var entry, cmd []string
	var copies []string
	for _, in := range ins[last+1:] {
		switch in.Cmd {
		case "COPY":
			copies = append(copies, in.Args)
		case "USER":
			img.User = in.Args
		case "ENV":
			for _, kv := range strings.Fields(in.Args) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("Dockerfile:%d: ENV %q: want KEY=value", in.Line, kv)
				}
				img.Env[k] = v
			}
		case "VOLUME":
			img.Volumes = append(img.Volumes, execForm(t, in)...)
		case "EXPOSE":
			img.Expose = append(img.Expose, strings.Fields(in.Args)...)
		case "STOPSIGNAL":
			img.StopSignal = in.Args
		case "HEALTHCHECK":
			opts, argv, ok := strings.Cut(in.Args, "CMD ")
			if !ok {
				t.Fatalf("Dockerfile:%d: HEALTHCHECK without CMD", in.Line)
			}
			for _, o := range strings.Fields(opts) {
				k, v, _ := strings.Cut(strings.TrimPrefix(o, "--"), "=")
				img.HealthOpts[k] = v
			}
			img.Healthcheck = execForm(t, dockerInstr{Line: in.Line, Args: argv})
		case "ENTRYPOINT":
			entry = execForm(t, in)
		case "CMD":
			cmd = execForm(t, in)
		}
	}
	img.Argv = append(entry, cmd...)
	for _, c := range copies {
		f := strings.Fields(c)
		if len(f) >= 2 && f[len(f)-2] == "/out/kefu" {
			img.Binary = f[len(f)-1]
		}
		if len(f) >= 2 && f[len(f)-1] == img.Env["KEFU_DATA"] && slices.Contains(f, "--chown="+img.User) {
			img.ChownData = true
		}
	}
	return img
}

// execForm reads a JSON array argument (the exec form), failing on the
// shell form: a shell form would need /bin/sh, which the image lacks.
func execForm(t *testing.T, in dockerInstr) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(strings.TrimSpace(in.Args)), &argv); err != nil {
		t.Fatalf("Dockerfile:%d: %s %s: want the exec form, a JSON array (the image has no shell): %v", in.Line, in.Cmd, in.Args, err)
	}
	return argv
}

// defaultRunFlags are kefu run's defaults with no KEFU_* variable set.
func defaultRunFlags(t *testing.T) *runFlags {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "KEFU_") {
			t.Setenv(k, "")
			_ = os.Unsetenv(k)
		}
	}
	f, err := parseRunFlags(nil, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestDockerfile: the image declares its data volume (owned by its
// non-root user), a healthcheck by kefu health, SIGTERM to drain with a
// grace that fits docker stop's timeout, and publishes only the ports kefu
// uses: SIP and the RTP range it sets, not the ops API, which stays on
// loopback.
func TestDockerfile(t *testing.T) {
	img := parseImage(t)
	def := defaultRunFlags(t)

	if u, _, _ := strings.Cut(img.User, ":"); u == "" || u == "root" || u == "0" {
		t.Errorf("USER %q: want a non-root user", img.User)
	}
	data := img.Env["KEFU_DATA"]
	if data == "" || !slices.Contains(img.Volumes, data) {
		t.Errorf("KEFU_DATA %q is not a VOLUME (%v): the store and recordings would live in the container's layer", data, img.Volumes)
	}
	if !img.ChownData {
		t.Errorf("the data directory %s is not copied in with --chown=%s: a new volume would be root's", data, img.User)
	}

	// The ops API: loopback unless the operator says otherwise, and not
	// published.
	if def.httpAddr != defaultHTTP {
		t.Errorf("kefu run's -http default %q, kefu health's %q: they must agree", def.httpAddr, defaultHTTP)
	}
	httpAddr := def.httpAddr
	if v, ok := img.Env["KEFU_HTTP"]; ok {
		httpAddr = v
	}
	host, httpPort, err := net.SplitHostPort(httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		t.Errorf("the image serves the ops API on %s: it has no tokens yet; keep it on loopback", httpAddr)
	}

	// EXPOSE: SIP on the default port, the image's RTP range, nothing else.
	_, sipPort, err := net.SplitHostPort(def.listen)
	if err != nil {
		t.Fatal(err)
	}
	rtp := img.Env["KEFU_RTP_PORTS"]
	if rtp == "" {
		rtp = def.rtpPorts
	}
	lo, hi, err := parsePorts(rtp)
	if err != nil {
		t.Fatalf("KEFU_RTP_PORTS: %v", err)
	}
	want := []string{sipPort + "/udp", sipPort + "/tcp", rtp + "/udp"}
	got := slices.Clone(img.Expose)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("EXPOSE %v, want %v (SIP, and the RTP range kefu uses: KEFU_RTP_PORTS)", img.Expose, want)
	}
	if slices.Contains(img.Expose, httpPort+"/tcp") {
		t.Errorf("EXPOSE publishes the ops port %s", httpPort)
	}
	// Publishing a UDP range costs a proxy per port unless the host network
	// is used: keep the image's range to what a node needs.
	if hi-lo+1 > 2000 {
		t.Errorf("RTP range %s: %d ports; keep the image's default small (host networking or KEFU_RTP_PORTS widen it)", rtp, hi-lo+1)
	}

	if img.StopSignal != "SIGTERM" {
		t.Errorf("STOPSIGNAL %q: want SIGTERM, on which kefu drains", img.StopSignal)
	}
	grace, err := time.ParseDuration(img.Env["KEFU_GRACE"])
	if err != nil {
		t.Fatalf("KEFU_GRACE %q: %v (the code default %s is longer than docker stop waits)", img.Env["KEFU_GRACE"], err, def.grace)
	}
	if grace+stopMargin > dockerStopTimeout {
		t.Errorf("KEFU_GRACE %s + %s to hang up and close: longer than docker stop's %s before it kills", grace, stopMargin, dockerStopTimeout)
	}

	if len(img.Argv) != 2 || img.Argv[0] != img.Binary || img.Argv[1] != "run" {
		t.Errorf("ENTRYPOINT+CMD %v, want [%s run]", img.Argv, img.Binary)
	}
	if !slices.Equal(img.Healthcheck, []string{img.Binary, "health"}) {
		t.Errorf("HEALTHCHECK CMD %v, want [%s health]", img.Healthcheck, img.Binary)
	}
	if d, err := time.ParseDuration(img.HealthOpts["timeout"]); err != nil || d <= 3*time.Second {
		t.Errorf("HEALTHCHECK --timeout=%s: want longer than kefu health's own 3 s", img.HealthOpts["timeout"])
	}
	for _, s := range []string{"CGO_ENABLED=0 go build", "-trimpath", "-o /out/kefu", "./cmd/kefu",
		"-X main.version=${KEFU_VERSION}", "-X main.revision=${KEFU_REVISION}", "-X main.built=${KEFU_BUILT}"} {
		if !strings.Contains(img.Build, s) {
			t.Errorf("build line %q lacks %q", img.Build, s)
		}
	}
}

// ignoreRule is one .dockerignore line as Docker reads it.
type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
}

func parseDockerignore(t *testing.T) []ignoreRule {
	t.Helper()
	b, err := os.ReadFile(repoFile(".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var rules []ignoreRule
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if p, ok := strings.CutPrefix(line, "!"); ok {
			r.negate, line = true, p
		}
		p := strings.TrimPrefix(filepath.Clean(line), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch c := p[i]; {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			case c == '[' || c == '\\':
				t.Fatalf(".dockerignore %q: this test's matcher knows no [ or \\; extend it", line)
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		r.re = regexp.MustCompile(re.String())
		rules = append(rules, r)
	}
	return rules
}

// dockerIgnored reports whether Docker leaves rel (slash-separated, from the
// context's root) out of the build context: the last rule matching it or
// one of its parent directories decides.
func dockerIgnored(rules []ignoreRule, rel string) bool {
	out := false
	for _, r := range rules {
		parts := strings.Split(rel, "/")
		for i := range parts {
			if r.re.MatchString(strings.Join(parts[:i+1], "/")) {
				out = !r.negate
				break
			}
		}
	}
	return out
}

// TestDockerignore: every file the build needs (the Go files and embedded
// files of the packages kefu is built from, go.mod, go.sum) is in the build
// context; data directories, the history and test output are not.
func TestDockerignore(t *testing.T) {
	rules := parseDockerignore(t)
	for _, p := range []string{"kefu-data/kefu.db", "cmd/kefu/kefu-data/recordings/a.wav", "srv/recordings/complaint-1.wav",
		"x/kefu.db-wal", ".git/HEAD", "cmd/kefu/kefu.test", "testdata/audio/a.wav", "flows/testdata/a.yaml", "kefu", "cover.out"} {
		if !dockerIgnored(rules, p) {
			t.Errorf("%s would be copied into the build context", p)
		}
	}
	need := buildFiles(t)
	if len(need) < 50 {
		t.Fatalf("only %d files found for the build: go list went wrong", len(need))
	}
	for _, p := range need {
		if dockerIgnored(rules, p) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", p)
		}
	}
	// What the context holds from this tree, for the record.
	var n, size int64
	root := repoFile("")
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if rel != "." && dockerIgnored(rules, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if fi, err := d.Info(); err == nil && !d.IsDir() {
			n, size = n+1, size+fi.Size()
		}
		return nil
	})
	t.Logf("build context: %d files, %.1f MB; the build needs %d of them", n, float64(size)/1e6, len(need))
}

// buildFiles lists, relative to the module root, the files go build
// ./cmd/kefu reads with CGO_ENABLED=0: each package's Go files and embedded
// files, go.mod and go.sum.
func buildFiles(t *testing.T) []string {
	t.Helper()
	root, err := filepath.Abs(repoFile(""))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", "-json=Dir,GoFiles,EmbedFiles,Module", "./cmd/kefu")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	files := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			Dir                 string
			GoFiles, EmbedFiles []string
			Module              *struct{ Main bool }
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append(p.GoFiles, p.EmbedFiles...) {
			files = append(files, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	return files
}
