package flood

// scanMax is how much of a User-Agent is searched. Scanners announce
// themselves at the start, one that hides its name could as well change
// it, and the bound keeps a 60 kB User-Agent from costing milliseconds.
const scanMax = 256

// minPattern is the shortest scanner pattern allowed: shorter ones match
// legitimate User-Agents.
const minPattern = 3

// scanners matches User-Agents against substrings, ignoring ASCII case.
// One pass over the User-Agent looks each pair of adjacent bytes up in a
// bitmap of the patterns' first two bytes; only on a hit are the patterns
// starting with that byte compared.
type scanners struct {
	bigrams [1 << 16 / 64]uint64 // set of lower-case first byte pairs
	byFirst [256][][]byte        // lower-case patterns by first byte
	n       int
}

func newScanners(pats []string) *scanners {
	s := &scanners{n: len(pats)}
	for _, p := range pats {
		low := asciiLower(p) // validated: at least minPattern bytes
		k := uint16(low[0])<<8 | uint16(low[1])
		s.bigrams[k/64] |= 1 << (k % 64)
		s.byFirst[low[0]] = append(s.byFirst[low[0]], low)
	}
	return s
}

// match reports whether the first scanMax bytes of ua contain one of the
// patterns. It does not allocate.
func (s *scanners) match(ua string) bool {
	if s.n == 0 || len(ua) < minPattern {
		return false
	}
	ua = ua[:min(len(ua), scanMax)]
	prev := lowerByte(ua[0])
	for i := 1; i < len(ua); i++ {
		c := lowerByte(ua[i])
		if k := uint16(prev)<<8 | uint16(c); s.bigrams[k/64]&(1<<(k%64)) != 0 {
			for _, p := range s.byFirst[prev] {
				if hasPrefixFold(ua[i-1:], p) {
					return true
				}
			}
		}
		prev = c
	}
	return false
}

// hasPrefixFold reports whether s starts with the lower-case prefix p,
// ignoring ASCII case in s.
func hasPrefixFold(s string, p []byte) bool {
	if len(s) < len(p) {
		return false
	}
	for j, c := range p {
		if lowerByte(s[j]) != c {
			return false
		}
	}
	return true
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// asciiLower returns a copy of s with ASCII letters lower-cased and every
// other byte (UTF-8 included, valid or not) left as it is.
func asciiLower(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerByte(c)
	}
	return b
}
