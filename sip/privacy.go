package sip

import "strings"

// Mask hides the middle of a caller number for logs (CS-PRIVACY): it keeps
// the first three and last two characters of the user part, e.g.
// "13812345678" → "138******78". Short values are masked whole.
func Mask(s string) string {
	n := len(s)
	if n == 0 {
		return ""
	}
	if n <= 5 {
		return strings.Repeat("*", n)
	}
	return s[:3] + strings.Repeat("*", n-5) + s[n-2:]
}

// user returns the number kefu logs for a caller: masked unless ops chose
// to show numbers.
func (a *Agent) user(u string) string {
	if a.cfg.ShowNumbers {
		return u
	}
	return Mask(u)
}
