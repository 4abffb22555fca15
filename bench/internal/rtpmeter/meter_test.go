//go:build linux

package rtpmeter

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"
)

// TestTakeSampleSumsName: processes listed under one name are measured
// together (bench/cluster.sh lists every Kamailio and PostgreSQL process).
func TestTakeSampleSumsName(t *testing.T) {
	self := os.Getpid()
	// Use some CPU, so that one 10 ms tick between two reads is small
	// beside the total.
	deadline := time.Now().Add(10 * time.Second)
	for h := sha256.Sum256(nil); time.Now().Before(deadline); h = sha256.Sum256(h[:]) {
		if v, err := ProcCPU(self); err != nil {
			t.Fatal(err)
		} else if v >= 0.1 {
			break
		}
	}
	s := TakeSample(PIDs{{"twice", self}, {"twice", self}, {"once", self}}, "self")
	twice, once := s.CPU["twice"], s.CPU["once"]
	if once < 0.1 {
		t.Skipf("the test used only %.2f s of CPU in 10 s: the machine is too busy to tell", once)
	}
	// The reads come in order: each is at most the next, and the last
	// at most a tick or two later than the first.
	if twice > 2*once || twice < 2*(once-0.02) {
		t.Errorf("twice = %.2f s, once = %.2f s: want the two entries summed", twice, once)
	}
}
