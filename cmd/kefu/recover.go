package main

import (
	"context"
	"log/slog"

	"github.com/kefu-hotline/kefu/flows/records"
)

// recoverRecordings finishes, before calls are taken, the recordings kefu
// left when it last stopped without finishing them (kill -9, a crash, a
// container stopped before the grace ended): each complaint is then listed
// as interrupted on /api/complaints. A failure is logged; the hotline
// starts all the same.
func recoverRecordings(dataDir string, st dataStore, log *slog.Logger) {
	r, err := records.Recover(context.Background(), dataDir, recoverable(st, dataDir), log)
	if err != nil {
		log.Error("recovering interrupted recordings failed; some complaints may stay in state recording", "error", err.Error())
	}
	if n := len(r.Interrupted) + len(r.Orphans); n > 0 || r.Failed > 0 {
		log.Warn("recordings interrupted by the last stop recovered", "complaints", len(r.Interrupted), "without_complaint", len(r.Orphans), "failed", r.Failed)
	}
}
