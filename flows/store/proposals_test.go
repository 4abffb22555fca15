package store_test

import (
	"strings"
	"testing"

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
