package store

import (
	"errors"
	"testing"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
)

// TestComplaintByID: a complaint reads back by its id as the list shows
// it; an id no complaint has is records.ErrNotFound.
func TestComplaintByID(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	added, err := s.AddComplaint(t.Context(), recordstest.Complaint("a", recordstest.T0))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Complaint(t.Context(), added.ID)
	if err != nil || got != added {
		t.Errorf("Complaint(%d) = %+v, %v; want %+v", added.ID, got, err, added)
	}
	if _, err := s.Complaint(t.Context(), added.ID+1); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("an unknown id: %v", err)
	}
	mem := new(records.Memory)
	if added, err = mem.AddComplaint(t.Context(), recordstest.Complaint("a", recordstest.T0)); err != nil {
		t.Fatal(err)
	}
	if got, err := mem.Complaint(t.Context(), added.ID); err != nil || got != added {
		t.Errorf("Memory.Complaint = %+v, %v", got, err)
	}
	if _, err := mem.Complaint(t.Context(), 0); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("Memory: id 0: %v", err)
	}
}
