package store_test

import (
	"testing"

	"github.com/kefu-hotline/kefu/flows/store/storetest"
)

// TestPurge runs the retention scenario on SQLite.
func TestPurge(t *testing.T) {
	storetest.Purge(t, open(t))
}

// TestPurgeAttempts runs the purge of callback attempts on SQLite.
func TestPurgeAttempts(t *testing.T) {
	storetest.PurgeAttempts(t, open(t))
}
