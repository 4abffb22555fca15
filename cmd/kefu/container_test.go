package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The container's steps without Docker (none runs here): the binary built
// by the Dockerfile's own build line, run the way the image runs it — in a
// root holding only what the image holds (the binary, the data directory
// owned by the image's user, /tmp and time zones as distroless has them),
// chrooted, as uid 65532, with the image's environment, ENTRYPOINT and CMD
// — and `kefu health` as the HEALTHCHECK calls it.

// imageRoot is a directory laid out like the image's file system.
type imageRoot struct {
	t      *testing.T
	dir    string
	img    image
	chroot bool // run chrooted as the image's user (needs root)
}

// path is where an absolute path of the image is as seen from here.
func (r *imageRoot) path(p string) string { return filepath.Join(r.dir, p) }

// imagePath is what the processes are told for an absolute path of the
// image: the path itself when chrooted.
func (r *imageRoot) imagePath(p string) string {
	if r.chroot {
		return p
	}
	return r.path(p)
}

func newImageRoot(t *testing.T, img image) *imageRoot {
	t.Helper()
	r := &imageRoot{t: t, dir: t.TempDir(), img: img, chroot: os.Geteuid() == 0}
	if !r.chroot {
		t.Logf("not root: the image's commands run as uid %d here, without chroot or the image's user", os.Geteuid())
	}
	if err := os.Chmod(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The build line of the Dockerfile, with the build arguments set.
	bin := r.path(img.Binary)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(repoFile(""))
	if err != nil {
		t.Fatal(err)
	}
	build := strings.ReplaceAll(img.Build, "-o /out/kefu", "-o "+bin)
	cmd := exec.Command("sh", "-c", build)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "KEFU_VERSION=v0.0.0-container-test", "KEFU_REVISION=0123456789abcdef0123456789abcdef01234567",
		"KEFU_BUILT=2026-03-01T10:00:00Z")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	t.Logf("built like the Dockerfile in %.1fs: %s", time.Since(start).Seconds(), build)
	// The data directory, as `COPY --chown` leaves it: mkdir -p, owned by
	// the image's user.
	data := r.path(img.Env["KEFU_DATA"])
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	// What distroless/static adds: /tmp and the time zones (kefu reads
	// Asia/Shanghai from the system).
	if err := os.MkdirAll(r.path("/tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(r.path("/tmp"), 0o1777)
	for _, z := range []string{"Asia/Shanghai", "UTC"} {
		src := filepath.Join("/usr/share/zoneinfo", z)
		b, err := os.ReadFile(src)
		if err != nil {
			t.Skipf("no %s on this machine to give the image root: %v", src, err)
		}
		dst := r.path(src)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dst, string(b))
	}
	if r.chroot {
		if err := os.Chown(data, imageUID, imageUID); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// command prepares one of the image's commands (argv[0] is a path in the
// image) with the image's environment and extra variables.
func (r *imageRoot) command(ctx context.Context, extraEnv []string, argv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, r.imagePath(argv[0]), argv[1:]...)
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/nonroot"}
	for k, v := range r.img.Env {
		if strings.HasPrefix(v, "/") {
			v = r.imagePath(v)
		}
		env = append(env, k+"="+v)
	}
	cmd.Env = append(env, extraEnv...)
	cmd.Dir = r.imagePath("/")
	if r.chroot {
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: r.dir, Credential: &syscall.Credential{Uid: imageUID, Gid: imageUID}}
	}
	return cmd
}

// run runs one of the image's commands to its end.
func (r *imageRoot) run(extraEnv []string, argv ...string) (string, int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := r.command(ctx, extraEnv, argv...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		r.t.Fatalf("%v: %v", argv, err)
	}
	return out.String(), 0
}

// TestIntegrationContainer runs the container's steps: kefu version; the
// healthcheck failing with no kefu; kefu run (ENTRYPOINT and CMD) on the
// image's data path and RTP range with a configuration mounted; the
// healthcheck passing; a reload by SIGHUP (docker kill -s HUP); a call;
// docker stop's SIGTERM during a call: still healthy while it drains, not
// ready, out within docker stop's 10 s; the healthcheck failing again.
// Every file kefu left in the volume is the image user's and not
// world-readable.
func TestIntegrationContainer(t *testing.T) {
	integration(t)
	img := parseImage(t)
	r := newImageRoot(t, img)

	bin := r.path(img.Binary)
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := ef.ImportedLibraries()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP || len(libs) > 0 {
			t.Errorf("%s is not static (interpreter or libraries %v): it would not start in distroless/static", bin, libs)
			break
		}
	}
	ef.Close()

	out, code := r.run(nil, img.Binary, "version")
	if code != 0 || !strings.Contains(out, "kefu v0.0.0-container-test (0123456789ab, 2026-03-01T10:00:00Z) go1.") || strings.Contains(out, "cgo") {
		t.Errorf("kefu version: exit %d: %q", code, out)
	}
	out, _ = r.run(nil, img.Binary, "version", "-json")
	var bi buildInfo
	if err := json.Unmarshal([]byte(out), &bi); err != nil || bi.Revision != "0123456789abcdef0123456789abcdef01234567" || bi.CGO {
		t.Errorf("kefu version -json: %q (%v)", out, err)
	}

	// The ports: the image's ops address is 127.0.0.1:8080 and SIP 5060;
	// free ones here so as not to meet another kefu on this machine.
	sipAddr, httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t))
	env := []string{"KEFU_LISTEN=" + sipAddr, "KEFU_HTTP=" + httpAddr, "KEFU_CONFIG=" + r.imagePath("/etc/kefu/kefu.yaml")}
	if out, code := r.run(env, img.Healthcheck...); code != 1 {
		t.Errorf("healthcheck with no kefu: exit %d, want 1: %s", code, out)
	}

	// The configuration, mounted read-only as the README shows.
	conf := r.path("/etc/kefu/kefu.yaml")
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	var def bytes.Buffer
	run([]string{"config", "default"}, &def, io.Discard)
	writeFile(t, conf, def.String())

	log := &syncBuffer{}
	kefu := r.command(context.Background(), env, img.Argv...)
	kefu.Stdout, kefu.Stderr = log, log
	start := time.Now()
	if err := kefu.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- kefu.Wait() }()
	defer func() {
		if kefu.ProcessState == nil {
			_ = kefu.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("kefu log:\n%s", log.String())
		}
	}()
	// The healthcheck until it passes, as Docker's start period allows.
	healthy := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if _, code := r.run(env, img.Healthcheck...); code == 0 {
			healthy = true
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("kefu exited at start: %v\n%s", err, log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !healthy {
		t.Fatalf("the healthcheck did not pass within 30 s\n%s", log.String())
	}
	t.Logf("healthy %.1fs after start, as uid %d chrooted: %v", time.Since(start).Seconds(), imageUID, r.chroot)
	if !strings.Contains(log.String(), `"rtp":"`+img.Env["KEFU_RTP_PORTS"]+`"`) {
		t.Errorf("kefu does not serve the image's RTP range %s", img.Env["KEFU_RTP_PORTS"])
	}

	// docker kill -s HUP after editing the mounted file.
	before := healthz(t, httpAddr)["config_version"]
	writeFile(t, conf, strings.Replace(def.String(), "answer_delay: 500ms", "answer_delay: 300ms", 1))
	if err := kefu.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	a := &agent{t: t, log: log, exited: make(chan struct{})}
	if !a.waitLog("configuration reloaded", 10*time.Second) {
		t.Fatal("no reload after SIGHUP")
	}
	if after := healthz(t, httpAddr)["config_version"]; after == before {
		t.Errorf("config_version %v after the reload, as before", after)
	}

	// A call, then docker stop in the middle of another.
	a.sip = sipAddr
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, code, out := dial(t, ctx, a, "-for", "1s"); code != 0 {
		t.Fatalf("a call: exit %d\n%s", code, out)
	}
	waitCalls(t, httpAddr, 0)
	callDone := make(chan int, 1)
	go func() {
		_, code, _ := dial(t, ctx, a, "-for", "20s")
		callDone <- code
	}()
	waitCalls(t, httpAddr, 1)
	stopAt := time.Now()
	if err := kefu.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !a.waitLog("shutting down", 5*time.Second) {
		t.Fatal("no drain after SIGTERM")
	}
	if out, code := r.run(env, img.Healthcheck...); code != 0 {
		t.Errorf("healthcheck while draining: exit %d, want 0 (still serving its calls): %s", code, out)
	}
	if out, code := r.run(env, img.Binary, "health", "-ready"); code != 1 {
		t.Errorf("kefu health -ready while draining: exit %d, want 1: %s", code, out)
	}
	select {
	case err := <-exited:
		took := time.Since(stopAt)
		t.Logf("stopped %.1fs after SIGTERM with a call up (KEFU_GRACE %s, docker stop waits %s)", took.Seconds(), img.Env["KEFU_GRACE"], dockerStopTimeout)
		if err != nil {
			t.Errorf("kefu exit: %v", err)
		}
		if took > dockerStopTimeout {
			t.Errorf("stopped after %s: docker stop would have killed it", took)
		}
	case <-time.After(dockerStopTimeout + 5*time.Second):
		t.Fatalf("kefu still running %s after SIGTERM", dockerStopTimeout+5*time.Second)
	}
	<-callDone
	if out, code := r.run(env, img.Healthcheck...); code != 1 {
		t.Errorf("healthcheck after the stop: exit %d, want 1: %s", code, out)
	}

	// The volume: the image user's files, none for the world.
	files := 0
	_ = filepath.WalkDir(r.path(img.Env["KEFU_DATA"]), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		files++
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && r.chroot && st.Uid != imageUID {
			t.Errorf("%s belongs to uid %d, not the image's %d", p, st.Uid, imageUID)
		}
		if !d.IsDir() && fi.Mode().Perm()&0o007 != 0 {
			t.Errorf("%s is %v: readable by anyone", p, fi.Mode())
		}
		return nil
	})
	if files < 2 {
		t.Errorf("the data volume holds %d entries: kefu stored nothing there", files)
	}
}

// healthz returns kefu's /healthz answer.
func healthz(t *testing.T, addr string) map[string]any {
	t.Helper()
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// waitCalls waits until kefu has n calls.
func waitCalls(t *testing.T, addr string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); healthz(t, addr)["calls"] != float64(n); {
		if time.Now().After(deadline) {
			t.Fatalf("kefu did not reach %d calls", n)
		}
		<-time.After(50 * time.Millisecond)
	}
}
