package flows

import "github.com/kefu-hotline/kefu/media/amd"

// AnsweringMachine tunes answering-machine detection on the calls kefu
// places (callbacks and follow-ups, issue 13). Once the customer's phone
// answers kefu listens before it says anything: a short greeting (喂 /
// 您好) and then a pause is a person, and the call goes on; a long
// greeting or a beep is a voicemail: kefu hangs up without leaving a
// message (the script books ask for none, and a message would tell
// whoever hears the voicemail about the customer's business), the attempt
// counts with result machine and is made again after the queue's retry;
// the agent rung for a callback hears that a machine answered and is free
// at once. Silence is a person waiting for kefu to speak. Every field has
// the default shown (package media/amd):
//
//	answering_machine:
//	  silence: 3.5s        # nothing said this long: a person waiting
//	  greeting: 2s         # a greeting this long at most, then end_silence: a person
//	  long_greeting: 2.5s  # speech longer than this: a machine
//	  end_silence: 800ms   # the end of a greeting (CS-LISTEN's end of an utterance)
//	  beep_wait: 1s        # after a greeting between the two, how much longer a beep is waited for
//	  beep: 300ms          # a pure tone this long: a machine's beep
//	  max_listen: 8s       # undecided this long: a person
//	  off: false           # true: no detection, the call goes on at the answer
type AnsweringMachine struct {
	Silence      *Duration `yaml:"silence"`
	Greeting     *Duration `yaml:"greeting"`
	LongGreeting *Duration `yaml:"long_greeting"`
	EndSilence   *Duration `yaml:"end_silence"`
	BeepWait     *Duration `yaml:"beep_wait"`
	Beep         *Duration `yaml:"beep"`
	MaxListen    *Duration `yaml:"max_listen"`
	Off          bool      `yaml:"off"`
}

// AMD is the answering-machine detection of the calls kefu places, and
// whether it is on (the default).
func (c *Config) AMD() (amd.Options, bool) {
	a := c.AnsweringMachine
	if a == nil {
		return amd.DefaultOptions(), true
	}
	o := amd.Options{
		Silence:      a.Silence.or(amd.DefaultSilence),
		Greeting:     a.Greeting.or(amd.DefaultGreeting),
		LongGreeting: a.LongGreeting.or(amd.DefaultLongGreeting),
		EndSilence:   a.EndSilence.or(amd.DefaultEndSilence),
		BeepWait:     a.BeepWait.or(amd.DefaultBeepWait),
		Beep:         a.Beep.or(amd.DefaultBeep),
		MaxListen:    a.MaxListen.or(amd.DefaultMaxListen),
	}
	return o, !a.Off
}

// validateAnsweringMachine checks the detection's figures together.
func (c *Config) validateAnsweringMachine(p *problems) {
	if c.AnsweringMachine == nil {
		return
	}
	if o, _ := c.AMD(); o.Validate() != nil {
		p.at("$.answering_machine", "%v", o.Validate())
	}
}
