package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-hotline/kefu/sip/softphone"
)

// flagNames reads the flag names from a -h output.
func flagNames(help string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`).FindAllStringSubmatch(help, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return out
}

func helpOf(t *testing.T, main func(args []string, stdout, stderr io.Writer) int) string {
	t.Helper()
	var b bytes.Buffer
	main([]string{"-h"}, &b, &b)
	if !strings.Contains(b.String(), "-") {
		t.Fatalf("no help: %q", b.String())
	}
	return b.String()
}

// readmeRow is the README's table row that starts with `cell`.
func readmeRow(readme, cell string) string {
	for _, line := range strings.Split(readme, "\n") {
		if strings.HasPrefix(line, "| `"+cell) {
			return line
		}
	}
	return ""
}

// TestREADMEFlags: the README documents every flag of kefu dial and kefu
// agent (one table, a column each, — where a command lacks the flag), of
// kefu run, kefu health, kefu version and kefu prompts export.
func TestREADMEFlags(t *testing.T) {
	b, err := os.ReadFile(repoFile("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	ctx := context.Background()
	dial := flagNames(helpOf(t, func(a []string, o, e io.Writer) int { return softphone.Main(ctx, a, o, e) }))
	agent := flagNames(helpOf(t, func(a []string, o, e io.Writer) int { return softphone.AgentMain(ctx, a, o, e) }))
	start := strings.Index(readme, "`kefu dial` and `kefu agent` take these flags")
	end := strings.Index(readme, "`kefu run` flags, each with")
	if start < 0 || end < start {
		t.Fatal("the README has no table of kefu dial's and kefu agent's flags before kefu run's")
	}
	var inDial, inAgent []string
	for _, m := range regexp.MustCompile("(?m)^\\| `-([a-z0-9-]+)` \\| ([^|]*) \\| ([^|]*) \\| [^|]+ \\|$").FindAllStringSubmatch(readme[start:end], -1) {
		if strings.TrimSpace(m[2]) != "—" {
			inDial = append(inDial, m[1])
		}
		if strings.TrimSpace(m[3]) != "—" {
			inAgent = append(inAgent, m[1])
		}
	}
	slices.Sort(inDial)
	slices.Sort(inAgent)
	if !slices.Equal(dial, inDial) {
		t.Errorf("kefu dial's flags %v; the README's table has %v", dial, inDial)
	}
	if !slices.Equal(agent, inAgent) {
		t.Errorf("kefu agent's flags %v; the README's table has %v", agent, inAgent)
	}

	var help bytes.Buffer
	defaultRunFlags(t)
	_, _ = parseRunFlags([]string{"-h"}, &help)
	for _, f := range flagNames(help.String()) {
		if !strings.Contains(readme, "`-"+f+"`") && !strings.Contains(readme, "`-"+f+" ") {
			t.Errorf("kefu run -%s is not in the README", f)
		}
	}
	for cmd, main := range map[string]func([]string, io.Writer, io.Writer) int{
		"health":         func(a []string, o, e io.Writer) int { return cmdHealth(ctx, a, o, e) },
		"version":        cmdVersion,
		"prompts export": cmdPromptsExport,
	} {
		row := readmeRow(readme, "kefu "+cmd)
		if row == "" {
			t.Errorf("no row for kefu %s in the README's commands", cmd)
			continue
		}
		for _, f := range flagNames(helpOf(t, main)) {
			if !strings.Contains(row, "-"+f) {
				t.Errorf("kefu %s -%s is not in its README row", cmd, f)
			}
		}
	}
}

// TestREADMEDeployment: what the README says of the RTP range, the
// container and the systemd unit is what the code, the Dockerfile and the
// unit do.
func TestREADMEDeployment(t *testing.T) {
	b, err := os.ReadFile(repoFile("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(b)), " ") // line breaks as spaces
	def := defaultRunFlags(t)
	img := parseImage(t)
	unit := unitEnv(parseUnit(t, repoFile("deploy/kefu.service")))
	legs := func(r string) int {
		lo, hi, err := parsePorts(r)
		if err != nil {
			t.Fatal(err)
		}
		lo += lo % 2
		return (hi-lo)/2 + 1 // media/rtp.PortPool: every even port of the range
	}
	stop := parseUnit(t, repoFile("deploy/kefu.service"))["TimeoutStopSec"][0]
	for _, want := range []string{
		fmt.Sprintf("%s, %d", def.rtpPorts, legs(def.rtpPorts)),
		fmt.Sprintf("KEFU_RTP_PORTS=%s", img.Env["KEFU_RTP_PORTS"]),
		fmt.Sprintf("%d media legs", legs(img.Env["KEFU_RTP_PORTS"])),
		fmt.Sprintf("KEFU_GRACE=%s", img.Env["KEFU_GRACE"]),
		fmt.Sprintf("`docker stop` kills %d s after", int(dockerStopTimeout.Seconds())),
		"VOLUME " + img.Volumes[0],
		fmt.Sprintf("uid %d", imageUID),
		fmt.Sprintf("`KEFU_GRACE=%s` and `TimeoutStopSec=%s`", unit["KEFU_GRACE"], stop),
		"docker kill -s HUP kefu",
		"`" + defaultHTTP + "`",
		"ops_tokens",
		"List every PBX trunk",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("the README does not say %q", want)
		}
	}
}
