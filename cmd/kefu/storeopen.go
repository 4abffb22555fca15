package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/store"
	"github.com/kefu-hotline/kefu/flows/store/pg"
	"github.com/kefu-hotline/kefu/ops"
)

// Where kefu run keeps its state is one setting, -store (KEFU_STORE):
// empty, the default, is SQLite in the data directory, for one node; a
// postgres:// URL is a PostgreSQL database that several nodes share
// (issue 17). A flag and not a config key, like -data: it says where the
// data lives, which a reload of the flows cannot change under running
// calls, and the URL carries a password that belongs in the service's
// environment, not in the flow file ops edit, check and copy around.
// Recordings and the audit log stay in -data either way.

// dataStore is what kefu run needs of its store: screening, the records
// and the callback book, the complaint lookup the recordings API serves
// by, the retention purge, and the failed-writes counter. flows/store's
// SQLite and flows/store/pg's Store are both one.
type dataStore interface {
	screen.Store
	records.Backend
	records.AttemptBook
	ops.ComplaintGetter
	Purge(ctx context.Context, before time.Time) (store.Purged, error)
	WriteErrors() uint64
	Close() error
}

var (
	_ dataStore = (*store.SQLite)(nil)
	_ dataStore = (*pg.Store)(nil)
)

// storeOpenTimeout bounds reaching a PostgreSQL server at start.
const storeOpenTimeout = 30 * time.Second

// openStore opens the store f.store names (see above).
func openStore(ctx context.Context, f *runFlags, log *slog.Logger) (dataStore, error) {
	switch {
	case f.store == "":
		s, err := store.Open(ctx, f.dataDir)
		if err != nil {
			return nil, err
		}
		return s, nil
	case pg.IsURL(f.store):
		ctx, cancel := context.WithTimeout(ctx, storeOpenTimeout)
		defer cancel()
		// Screening's reads come from memory, kept fresh by the
		// database's notifications: a list change on any node is in
		// force here within milliseconds.
		s, err := pg.Open(ctx, f.store, pg.WithCache(), pg.WithLogger(log))
		if err != nil {
			return nil, err
		}
		log.Info("data store: PostgreSQL, shared with the other nodes on it", "store", s.String(), "schema_version", pg.SchemaVersion())
		return sharedStore{s}, nil
	default:
		return nil, fmt.Errorf("-store %q: want a postgres:// URL, or nothing for SQLite in -data", pg.Redact(f.store))
	}
}

// sharedStore is a store other nodes write too. At start a node recovers
// only the recordings it left itself: the complaints still being
// recorded whose part file is in its own data directory. The others are
// being recorded by another node, or were cut off on a node that finishes
// them when it starts again.
type sharedStore struct{ *pg.Store }

// recoverable wraps st for records.Recover at start: on a shared store,
// the complaints being recorded are only those with a part file in
// dataDir.
func recoverable(st dataStore, dataDir string) records.Backend {
	if s, ok := st.(sharedStore); ok {
		return ownRecordings{Backend: s, dataDir: dataDir}
	}
	return st
}

// ownRecordings lists, of the complaints being recorded, those whose part
// file is in dataDir.
type ownRecordings struct {
	records.Backend
	dataDir string
}

// Complaints implements records.Lister.
func (o ownRecordings) Complaints(ctx context.Context, f records.Filter) ([]records.Complaint, error) {
	cs, err := o.Backend.Complaints(ctx, f)
	if err != nil || f.State != records.Recording {
		return cs, err
	}
	var own []records.Complaint
	for _, c := range cs {
		part := filepath.Join(o.dataDir, filepath.FromSlash(c.Recording+records.PartSuffix))
		if _, err := os.Stat(part); err == nil || !errors.Is(err, os.ErrNotExist) {
			own = append(own, c)
		}
	}
	return own, nil
}
