//go:build unix

package records

import (
	"errors"
	"os"
	"syscall"
)

// LockPart takes, on f (a recording's part file just created), the lock
// that says it is being written; it lasts until f is closed, or the
// process ends. With the recordings directory a folder several nodes
// share (issue 17: an NFS, CephFS or similar mount with locks), it keeps
// another node's Recover off a recording being made.
func LockPart(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// PartInUse reports whether the part file at path is being written: a
// recorder, in this process or another (another node's, on a shared
// folder), holds its lock.
func PartInUse(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	return errors.Is(err, syscall.EWOULDBLOCK)
}
