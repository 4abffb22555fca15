package flows

import "fmt"

// Start is where a call begins its flow, decided on the INVITE: the steps
// before the answer (branch, goto, answer, reject) need no audio, so they
// run before kefu answers.
type Start struct {
	Step   int    // first step to run after the answer
	Reject int    // when non-zero, refuse the call with this SIP status
	Reason string // the reject step's reason code
	Path   []string
}

// Start walks flow f's steps that run before the answer for a call.
func (c *Config) Start(f *Flow, info CallInfo) (Start, error) {
	var st Start
	i := 0
	for range maxSteps {
		if i >= len(f.Steps) {
			return st, fmt.Errorf("flow %s ends before the call is answered", f.Name())
		}
		s := f.Steps[i]
		st.Path = append(st.Path, s.Name)
		switch {
		case s.Reject != nil:
			st.Reject, st.Reason = s.Reject.Code, s.Reject.Reason
			if st.Reject == 0 {
				st.Reject = 603
			}
			return st, nil
		case s.Answer != nil:
			st.Step = i + 1
			return st, nil
		case s.Goto != "":
			i = f.index[s.Goto]
		case s.Branch != nil:
			next := s.Branch.pick(info, nil, c)
			if next == "" {
				next = s.Next
			}
			if next == "" {
				i++
			} else {
				i = f.index[next]
			}
		default:
			st.Step = i
			return st, nil
		}
	}
	return st, fmt.Errorf("flow %s loops before the answer", f.Name())
}
