package sip

import "github.com/kefu-hotline/kefu/flows"

// user returns the number kefu logs for a caller: masked unless ops chose
// to show numbers.
func (a *Agent) user(u string) string {
	if a.cfg.ShowNumbers {
		return u
	}
	return flows.MaskNumber(u)
}
