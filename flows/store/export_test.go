package store

// Migrations exposes the schema steps to the tests, which build databases
// at an older version.
var Migrations = migrations
