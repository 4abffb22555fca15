package sip

// RTPPorts reports the media ports in use and how many the range holds
// (one even port per media leg), for ops to alert before calls get 503.
func (a *Agent) RTPPorts() (inUse, total int) {
	return a.ports.InUse(), a.ports.Size()
}
