package store_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
	"github.com/kefu-hotline/kefu/flows/store"
)

// TestMigrateFromV2: a database of schema 2 (list, counters, records) is
// brought to the current version; a complaint it holds spares its caller
// at once.
func TestMigrateFromV2(t *testing.T) {
	dir := t.TempDir()
	raw := rawDB(t, dir+"/"+store.FileName)
	if _, err := raw.Exec(store.Migrations[0] + store.Migrations[1] + `
PRAGMA user_version = 2;
INSERT INTO complaints (call_id, caller, class, at, deadline, recording, duration) VALUES ('c1', '13987654321', 'service', 0, 0, '', 0);`); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	s := openIn(t, dir)
	if ex, err := s.Exemption(t.Context(), recordstest.Caller, screentest.T0); err != nil || ex != screen.ExemptComplaint {
		t.Fatalf("exemption after migration: %q %v", ex, err)
	}
	if ps, err := s.Proposals(t.Context(), true); err != nil || len(ps) != 0 {
		t.Fatalf("proposals after migration: %+v %v", ps, err)
	}
}

// TestSpareIndexes: the exemption lookups and the open proposal read
// indexes, never scan a table.
func TestSpareIndexes(t *testing.T) {
	s := open(t)
	raw := rawDB(t, s.Path())
	for _, tc := range []struct{ q, index string }{
		{`SELECT 1 FROM complaints WHERE caller = '1' AND replied_at IS NULL`, "complaints_open_caller"},
		{`SELECT 1 FROM callbacks WHERE caller = '1' AND done_at IS NULL`, "callbacks_open_caller"},
		{`SELECT 1 FROM callbacks WHERE number = '1' AND done_at IS NULL`, "callbacks_open_number"},
		{`SELECT 1 FROM cut_calls WHERE number = '1' AND at > 0`, "cut_calls_number_at"},
		{`SELECT 1 FROM nuisance_proposals WHERE number = '1' AND status = 'proposed'`, "nuisance_proposals_open"},
	} {
		var plan []string
		rows, err := raw.Query(`EXPLAIN QUERY PLAN ` + tc.q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "INDEX "+tc.index) {
			t.Errorf("%s:\nplan %s\nwant index %s", tc.q, p, tc.index)
		}
	}
}

// TestDecideOnce: people deciding one proposal at once: exactly one
// decision wins, the others get ErrDecided, and a confirmation's entry is
// on the list.
func TestDecideOnce(t *testing.T) {
	s := open(t)
	p, err := s.Propose(t.Context(), screen.Proposal{Number: "13812345678", Reason: "r", Calls: 11, Since: screentest.T0, Until: screentest.T0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Propose(t.Context(), screen.Proposal{Number: "13812345678", Reason: "r2", Calls: 12, Since: screentest.T0.Add(time.Second), Until: screentest.T0.Add(2 * time.Hour)})
	if err != nil || again.ID != p.ID || again.Calls != 12 || !again.Until.Equal(screentest.T0.Add(2*time.Hour)) || again.Reason != "r" || !again.Since.Equal(screentest.T0) {
		t.Fatalf("merged proposal %+v %v", again, err)
	}
	const people = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  int
		lost int
	)
	for i := range people {
		wg.Go(func() {
			d := screen.Decision{Status: screen.Rejected, By: "ops", At: screentest.T0}
			if i%2 == 0 {
				d = screen.Decision{Status: screen.Confirmed, By: "ops", At: screentest.T0, Entry: &screen.Entry{Pattern: "13812345678",
					Reason: "r", AddedBy: "ops", AddedAt: screentest.T0, Action: screen.DefaultAction}}
			}
			_, err := s.DecideProposal(t.Context(), p.ID, d)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, screen.ErrDecided):
				lost++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won != 1 || lost != people-1 {
		t.Fatalf("%d decisions won, %d lost; want 1 and %d", won, lost, people-1)
	}
	got, err := s.Proposal(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.Entries(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if confirmed := got.Status == screen.Confirmed; confirmed != (len(es) == 1) || confirmed != (got.EntryID != 0) {
		t.Fatalf("proposal %+v with %d entries", got, len(es))
	}
	if _, err := s.Proposal(t.Context(), 99); !errors.Is(err, screen.ErrNotFound) {
		t.Errorf("unknown proposal: %v", err)
	}
	if _, err := s.DecideProposal(t.Context(), 99, screen.Decision{Status: screen.Rejected, By: "ops"}); !errors.Is(err, screen.ErrNotFound) {
		t.Errorf("decide an unknown proposal: %v", err)
	}
	if _, err := s.DecideProposal(t.Context(), p.ID, screen.Decision{Status: screen.Confirmed, By: "ops"}); !errors.Is(err, screen.ErrInvalid) {
		t.Errorf("confirm without an entry: %v", err)
	}
}
