package records_test

import (
	"testing"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
)

// TestMemoryBook runs the callback scheduler's book scenarios on Memory.
func TestMemoryBook(t *testing.T) {
	recordstest.RunBook(t, func(*testing.T) recordstest.Book { return new(records.Memory) })
}

// TestMemoryFollowUps runs the follow-up scenarios on Memory.
func TestMemoryFollowUps(t *testing.T) {
	recordstest.RunFollowUps(t, func(*testing.T) recordstest.FollowUpBackend { return new(records.Memory) })
}
