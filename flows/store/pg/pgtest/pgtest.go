// Package pgtest runs a throwaway PostgreSQL cluster for tests: Debian's
// postgresql package's binaries (/usr/lib/postgresql/*/bin), a cluster
// initialised in a temporary directory, listening on 127.0.0.1 on a free
// port with its unix socket in that directory, removed when the test or
// the test binary ends. Tests get a fresh schema each (Server.DSN), so one
// cluster serves a whole package.
//
// Without PostgreSQL installed a test is skipped with a message, or fails
// under CI (CI=true): .ci/run installs it.
//
// PostgreSQL refuses to run as root; when the tests run as root the
// cluster runs as the postgres user the package creates.
package pgtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartTimeout bounds initdb and the server's start.
const StartTimeout = 60 * time.Second

// User is the cluster's superuser, and the user DSNs connect as.
const User = "kefu"

// Options change how a cluster runs.
type Options struct {
	// Durable keeps fsync on, as a production server has it: for
	// measurements. Tests run with fsync off, which changes no result
	// and spares the disk.
	Durable bool
}

// Server is a running cluster.
type Server struct {
	dir      string // the temporary directory: data/, the socket, the password file
	port     int
	password string
	cmd      *exec.Cmd
	done     chan struct{} // closed when the postgres process has exited
	schemas  atomic.Int64
	stopOnce sync.Once
}

// ErrMissing is returned by Start when PostgreSQL is not installed.
var ErrMissing = errors.New("PostgreSQL is not installed (apt-get install postgresql)")

// Bin returns the directory of PostgreSQL's server binaries (initdb,
// postgres): the newest under /usr/lib/postgresql, or the directory of
// initdb on PATH.
func Bin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrMissing
}

// version is the major version in /usr/lib/postgresql/NN/bin.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start starts a cluster with opts; Stop stops it and removes its files.
func Start(opts Options) (*Server, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	cred, owner, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kefu-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{dir: dir, done: make(chan struct{})}
	if err := s.start(bin, cred, owner, opts); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// runAs is the user the cluster runs as: the postgres user when the
// tests run as root, else the tests' own (nil credential).
func runAs() (cred *syscall.Credential, owner [2]int, err error) {
	if os.Geteuid() != 0 {
		return nil, [2]int{-1, -1}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, owner, fmt.Errorf("pgtest: running as root, and no postgres user to run PostgreSQL as: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, owner, fmt.Errorf("pgtest: postgres user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, [2]int{uid, gid}, nil
}

func (s *Server) start(bin string, cred *syscall.Credential, owner [2]int, opts Options) error {
	if owner[0] >= 0 {
		if err := os.Chown(s.dir, owner[0], owner[1]); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	s.password = hex.EncodeToString(pw)
	pwfile := filepath.Join(s.dir, "pw")
	if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if owner[0] >= 0 {
		if err := os.Chown(pwfile, owner[0], owner[1]); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	data := filepath.Join(s.dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", User, "--pwfile", pwfile,
		"-A", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	fsync := "off"
	if opts.Durable {
		fsync = "on"
	}
	// postgres itself rather than pg_ctl: it stays our child, so it gets
	// SIGQUIT (immediate shutdown) if the test binary dies, and its log on
	// stderr says when it is ready.
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories="+s.dir, "-c", "fsync="+fsync, "-c", "full_page_writes="+fsync,
		"-c", "max_connections=300", "-c", "logging_collector=off", "-c", "log_min_messages=warning")
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	// Pdeathsig follows the thread that started the child: keep it.
	runtime.LockOSThread()
	err = s.cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	ready := make(chan struct{})
	var logMu sync.Mutex
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			logMu.Lock()
			if log.Len() < 64<<10 {
				log.WriteString(sc.Text() + "\n")
			}
			logMu.Unlock()
			if strings.Contains(sc.Text(), "ready to accept connections") {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = s.cmd.Wait()
		close(s.done)
	}()
	select {
	case <-ready:
		return nil
	case <-s.done:
	case <-ctx.Done():
	}
	logMu.Lock()
	defer logMu.Unlock()
	return fmt.Errorf("pgtest: postgres did not become ready:\n%s", log.String())
}

// freePort is a TCP port on 127.0.0.1 nothing listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Stop shuts the cluster down (fast shutdown: sessions are ended) and
// removes its files. It may be called more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			_ = s.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-s.done:
			case <-time.After(30 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.done
			}
		}
		_ = os.RemoveAll(s.dir)
	})
}

// Port is the TCP port the cluster listens on, on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// URL is the cluster's connection URL for database db on 127.0.0.1
// with extra connection parameters.
func (s *Server) URL(db string, params url.Values) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(User, s.password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + db, RawQuery: params.Encode()}
	return u.String()
}

// NewSchema creates an empty schema and returns the URL of the postgres
// database with search_path set to it: a store opened on it is as on a
// new server.
func (s *Server) NewSchema(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d", s.schemas.Add(1))
	c, err := pgx.Connect(ctx, s.URL("postgres", nil))
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	return s.URL("postgres", url.Values{"search_path": {name}}), nil
}

// Need is Start for one test, or a skip (a failure under CI=true) when
// PostgreSQL is missing; the cluster stops when the test ends.
func Need(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		missing(t, err)
	}
	t.Cleanup(s.Stop)
	return s
}

// missing skips t, or fails it under CI, for a cluster that could not
// start.
func missing(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrMissing) && os.Getenv("CI") != "true" {
		t.Skipf("%v: the PostgreSQL store tests are skipped", err)
	}
	if errors.Is(err, ErrMissing) {
		t.Fatalf("%v; CI must install it (see .ci/run)", err)
	}
	t.Fatal(err)
}

// Shared is one cluster for a test binary, started at the first DSN
// call; Main stops it.
type Shared struct {
	once sync.Once
	s    *Server
	err  error
}

// DSN returns the URL of a new, empty schema on the shared cluster,
// starting it on first use; it skips t (fails it under CI) when
// PostgreSQL is missing.
func (sh *Shared) DSN(t testing.TB) string {
	t.Helper()
	sh.once.Do(func() { sh.s, sh.err = Start(Options{}) })
	if sh.err != nil {
		missing(t, sh.err)
	}
	dsn, err := sh.s.NewSchema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// Server is the shared cluster, nil before the first DSN call.
func (sh *Shared) Server() *Server { return sh.s }

// Main runs the tests and then stops the shared cluster: call it from
// TestMain as os.Exit(sh.Main(m)).
func (sh *Shared) Main(m *testing.M) int {
	code := m.Run()
	if sh.s != nil {
		sh.s.Stop()
	}
	return code
}
