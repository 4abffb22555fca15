// Package callerid puts caller numbers in one form and hides them in logs.
//
// A trunk may present the same mobile phone as 13812345678, +8613812345678,
// 008613812345678, 8613812345678 or 013812345678 (a mobile dialled with the
// trunk prefix from another city). Screening lists, repeat-call counters,
// routes and callback records must see one number, so everything keys on
// Normalize's output: the Chinese national form (mobile 1xxxxxxxxxx,
// landline 0 + area code + number) for numbers in +86, and "+" + country code
// for other countries.
package callerid

import "strings"

// Normalize returns the canonical form of a caller number. Visual separators
// (space, '-', '.', parentheses) are dropped; anything that is not a
// telephone number once they are gone (a SIP user name such as "alice",
// "anonymous", "") is returned unchanged, so screening patterns still match
// it.
func Normalize(s string) string {
	s = strings.TrimSpace(s)
	d := dropSeparators(s)
	plus := strings.HasPrefix(d, "+")
	d = strings.TrimPrefix(d, "+")
	if d == "" || strings.Trim(d, "0123456789") != "" {
		return s
	}
	switch {
	case plus:
		// already international
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case len(d) == 13 && strings.HasPrefix(d, "861"):
		// 86 + mobile without the international prefix
	default:
		return national(d)
	}
	if !strings.HasPrefix(d, "86") {
		return "+" + d
	}
	n := d[2:]
	switch {
	case n == "" || strings.HasPrefix(n, "00"):
		return "+" + d // not a national number: leave it international
	case strings.HasPrefix(n, "1") && len(n) == 11:
		return n // mobile
	case strings.HasPrefix(n, "0"):
		return national(n)
	}
	return "0" + n // landline: the trunk prefix comes back
}

// national drops the trunk prefix 0 before a mobile number (a mobile dialled
// from another city).
func national(d string) string {
	if len(d) == 12 && strings.HasPrefix(d, "01") {
		return d[1:]
	}
	return d
}

// Mask hides the middle of a number for logs (CS-PRIVACY): it keeps the
// first three and last two characters, e.g. "13812345678" → "138******78".
// Values of five characters or fewer are masked whole.
func Mask(s string) string {
	r := []rune(s)
	n := len(r)
	if n <= 5 {
		return strings.Repeat("*", n)
	}
	return string(r[:3]) + strings.Repeat("*", n-5) + string(r[n-2:])
}

// NormalizePrefix puts the leading digits of a number pattern (such as a
// nuisance-list prefix "+86400*" without its '*') in the form that Normalize
// gives the numbers it should match: "+86400" and "0086400" become "0400",
// "+86139" becomes "139", "00852" becomes "+852". A whole number is better
// given to Normalize.
func NormalizePrefix(p string) string {
	d := dropSeparators(strings.TrimSpace(p))
	switch {
	case strings.HasPrefix(d, "+86"):
		d = d[3:]
	case strings.HasPrefix(d, "0086"):
		d = d[4:]
	case strings.HasPrefix(d, "00"):
		return "+" + d[2:]
	default:
		return d
	}
	if d == "" || strings.HasPrefix(d, "1") || strings.HasPrefix(d, "0") {
		return d
	}
	return "0" + d
}

// dropSeparators removes what people type between digits.
func dropSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')':
			return -1
		}
		return r
	}, s)
}
