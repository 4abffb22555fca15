package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at link time by builds that have no VCS information to stamp (the
// Dockerfile copies the source without .git):
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.revision=$(git rev-parse HEAD)"
var (
	version  string // the release, e.g. v1.2.0 or git describe's output
	revision string // the commit the binary was built from
	built    string // when that commit was made or the binary built, RFC 3339
)

// buildInfo describes the running binary: what `kefu version` prints.
type buildInfo struct {
	Version   string `json:"version"`            // the release or module version; "(devel)" for a plain build of the tree
	Revision  string `json:"revision,omitempty"` // the VCS commit
	Time      string `json:"time,omitempty"`     // the commit's time, RFC 3339
	Modified  bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
	GoVersion string `json:"go"`
	Platform  string `json:"platform"` // GOOS/GOARCH
	CGO       bool   `json:"cgo"`      // false for the static binary the Dockerfile builds
}

// readBuildInfo gathers the binary's build information: the link-time
// values when set, else what the Go toolchain stamped.
func readBuildInfo() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return makeBuildInfo(bi, version, revision, built)
}

func makeBuildInfo(bi *debug.BuildInfo, version, revision, built string) buildInfo {
	b := buildInfo{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			b.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			case "CGO_ENABLED":
				b.CGO = s.Value == "1"
			}
		}
	}
	if version != "" {
		b.Version = version
	}
	if revision != "" {
		b.Revision = revision
	}
	if built != "" {
		b.Time = built
	}
	return b
}

// String is the one-line form: "kefu v1.2.0 (3f2a9c1…, 2026-03-01T10:00:00Z) go1.26.0 linux/amd64".
func (b buildInfo) String() string {
	s := "kefu " + b.Version
	if b.Revision != "" {
		rev := b.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if b.Modified {
			rev += "+modified"
		}
		if b.Time != "" {
			rev += ", " + b.Time
		}
		s += " (" + rev + ")"
	}
	s += " " + b.GoVersion + " " + b.Platform
	if b.CGO {
		s += " cgo"
	}
	return s
}

// cmdVersion prints the version and build of this binary.
func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the build information as JSON")
	if err := fs.Parse(args); err != nil {
		return exitForParse(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, "usage: kefu version [-json]\n")
		return 2
	}
	b := readBuildInfo()
	if *asJSON {
		out, _ := json.Marshal(b)
		fmt.Fprintf(stdout, "%s\n", out)
		return 0
	}
	fmt.Fprintln(stdout, b)
	return 0
}
