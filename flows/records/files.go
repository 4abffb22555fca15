package records

import (
	"fmt"
	"hash/fnv"
	"path"
	"regexp"
	"strings"
	"time"
)

// RecordingsDir is where recordings go in the data directory, one folder
// a day (UTC).
const RecordingsDir = "recordings"

// PartSuffix ends the name of a recording being written: the recorder
// writes path+PartSuffix (a WAV file playable at every moment) and renames
// it to path when it has finished the file. A part file left behind is a
// recording kefu's stopping cut short; Recover finishes it.
const PartSuffix = ".part"

// nameTime is how a recording's name gives its start.
const nameTime = "20060102T150405.000Z"

// RecordingPath is where a complaint (or message) of class from call
// callID, started at at, is recorded, relative to the data directory:
// recordings/2026-03-02/general-20260302T010203.456Z-CALLID.wav. The
// class and the call id are made safe for a file name (SafeName), so
// that the name alone says whose recording it is.
func RecordingPath(class string, at time.Time, callID string) string {
	at = at.UTC()
	return path.Join(RecordingsDir, at.Format(time.DateOnly),
		fmt.Sprintf("%s-%s-%s.wav", safeClass(class), at.Format(nameTime), SafeName(callID)))
}

// SafeName is callID as a part of a file name: ASCII letters, digits and
// . _ @ - kept, anything else (a slash, a space, a quote) made _, at most
// 64 bytes. When that changed callID, a hash of the whole id follows
// (~1a2b3c4d), so two calls still get two names. An empty id is
// "no-call-id".
func SafeName(callID string) string {
	if callID == "" {
		return "no-call-id"
	}
	var b strings.Builder
	for _, r := range callID {
		switch {
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 64 {
		s = s[:64]
	}
	if s != callID {
		h := fnv.New32a()
		h.Write([]byte(callID))
		s = fmt.Sprintf("%s~%08x", s, h.Sum32())
	}
	return s
}

// safeClass is a class as the first part of a file name: lower-case
// letters, digits and _, at most 32 bytes; "complaint" when empty.
func safeClass(class string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(class) {
		if b.Len() == 32 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "complaint"
	}
	return b.String()
}

var nameRe = regexp.MustCompile(`^([a-z0-9_]+)-(\d{8}T\d{6}\.\d{3}Z)-(.+)\.wav$`)

// parseRecordingName reads back what RecordingPath put in a file's name:
// the class, the start and the call id (as SafeName made it).
func parseRecordingName(name string) (class string, at time.Time, callID string, ok bool) {
	m := nameRe.FindStringSubmatch(name)
	if m == nil {
		return "", time.Time{}, "", false
	}
	at, err := time.Parse(nameTime, m[2])
	if err != nil {
		return "", time.Time{}, "", false
	}
	return m[1], at, m[3], true
}
