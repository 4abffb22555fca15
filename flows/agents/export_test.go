package agents

// Waiters is the number of callers the board still keeps, for tests that
// check nothing leaks.
func (b *Board) Waiters() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiters)
}
