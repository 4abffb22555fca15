// Package vad is kefu's line-condition detector: it listens to the caller's
// decoded audio, one 20 ms frame at a time, and says what the line carries:
// silence, speech, weak speech (CS-WEAK) or noise (CS-NOISY). It reads no
// clock: time is the number of frames it has been fed, so a call's receive
// goroutine (or a test) drives it directly.
//
// # What it measures
//
// Each frame's level is its RMS in dBFS with the frame's mean removed, where
// 0 dBFS is the RMS of a full-scale square wave (the convention of sox and of
// prompts.SpeechLevel; a full-scale sine is -3 dBFS). Digital silence reads
// MinDB.
//
// The noise floor is the quietest level the line held for three frames (60
// ms) within the last Options.FloorMs: speech falls back to it between
// words, a noise stays above it, and it follows a background that rises or
// falls within FloorMs. The first frame's level counts as at most
// Options.StartFloorDB until SteadyMs of audio have shown the real
// background, so a caller speaking from the first frame is heard. A signal
// whose levels spread by no more than Options.SteadyRangeDB over
// Options.SteadyMs (hiss, hum, a tone, a fan, white noise) is steady: it
// becomes the floor at once, and if it stood above the floor (a new noise,
// not the quiet after speech), speech in progress ends without hangover.
//
// The periodicity of a frame is the highest peak of its normalised
// autocorrelation at pitch lags (50 to 400 Hz), on the signal low-passed to
// 2 kHz: vowels have a pitch (0.7 and more), white and pink noise do not
// (0.2 to 0.4). Over a background whose power lies low (mains hum, fan or
// road rumble, brown noise, a buzz) it is measured on the signal
// pre-emphasised, so that a voice's harmonics, which the telephone band
// keeps above 300 Hz, stand out of it: the background's tilt (the
// correlation of neighbouring samples in the frames near the floor: about
// 0 for white noise, 0.4 for pink noise or a crowd, 0.75 for brown noise
// or a buzz, 0.97 for hum or rumble) switches this on from 0.6.
//
// The tonality of a frame is the share of the power of its last 32 ms in
// the two strongest peaks of their spectrum (256-point FFT at 8 kHz, a
// peak three bins wide): at least 0.99 for a tone or a pair of tones (a
// DTMF key, a dial, busy, ringing or test tone), 0.985 with a noise 20 dB
// below it, less than 0.975 for a voice, whose power spreads over the
// harmonics of its pitch and its formants. Periodicity and tonality are
// computed only for frames loud enough to be voiced, tonality only outside
// speech, in its hangover and on the first frames of voice after a pause.
//
// # How it decides
//
// A frame is voiced when it is above Options.MinLevelDB, above the floor by
// a margin, at least Options.MinPeriodicity periodic, and not a tone
// (tonality at least 0.975: Result.Tone). The margin is Options.EnterDB for
// the first frame of a run while the line is silent, Options.ExitDB for the
// next frames of the run and while the caller speaks (hysteresis). With
// Options.AdaptMargins the margins, and the swing below, are lowered over a
// steady background to its spread (the least spread of the levels over
// SteadyMs within FloorMs) plus 2, 1 and 4 dB, but not below 3, 3 and 6
// dB: over white noise, whose frames spread by 2 dB, speech at SNR 5 dB is
// heard; over a crowd the margins stay as set.
//
// Speech starts on a run of Options.OnsetMs voiced frames that is confirmed
// as a voice. First, it rises out of the background or falls back to it:
// its loudest frame stands Options.SwingDB above the quietest frame of the
// last SteadyMs, either before the run (usually: speech is reported on the
// run's last frame) or in the dip after it, within SteadyMs (then speech is
// reported on the frame of the dip). A run that began while the floor was
// still the capped start needs 1.4 times the swing: a crowd present from
// the first frame stands above the cap as speech does, but does not fall
// silent between syllables. Second, its level moves: the levels above the
// floor of its inner frames (all but its first and its newest, or, for a
// run confirmed by the dip after it, all but its first) spread by at least
// 1.5 dB. A voice rises and falls within a syllable; mains hum, a buzz, a
// tone or a DTMF key holds its level from its second frame to its last but
// one within a dB, even in noise, however periodic it is, and within
// SteadyMs it is steady and becomes the floor. So hum and buzz never start
// speech, and a tone neither, twice over. Speech ends on the
// Options.HangoverMs-th consecutive unvoiced frame. A tone in the hangover
// (a key pressed just after speaking) counts as unvoiced, and so do the
// first frames of it that passed for voice (at most OnsetMs of them) and
// the frame in which it stops: a key neither starts speech nor draws it
// out.
//
// While the caller speaks the class is Speech, or WeakSpeech when the
// segment level (the power average of the segment's voiced frames,
// Result.SegmentDB) is below Options.WeakDB. Otherwise it is Noise when at
// least three quarters of the frames of the last Options.WindowMs that were
// not speech held Options.NoiseDB (the loudest of the frame and the two
// before it, so that rumble, whose frames dip, stays Noise), else Silence.
// A steady noise of any colour at -40 dBFS and louder is Noise however
// long it lasts: the floor rises to it, the class stays Noise.
// Result.Window is the class of the last WindowMs as a whole, without
// hangover: speech if the window holds WindowSpeechFrames voiced frames and
// speech, else Noise or Silence as above. Use Result.Class and its
// SpeechStart and SpeechEnd events to react at once (barge-in, the end of
// a silent wait); use Result.Window to judge the line (CS-WEAK, CS-NOISY)
// and to report it.
//
// The end of an utterance (CS-LISTEN: 0.8 s without speech, the short
// pauses within a sentence bridged) is for the caller to count, in frames,
// from Result.SinceVoiced: the frames since the last voiced frame of
// speech, 0 while the caller speaks, the hangover on SpeechEnd, and on
// after it until the next SpeechStart. A pause of 350 ms within a sentence
// leaves 0.5 to 0.7 s without a voiced frame around it, so it may end a
// speech segment (SpeechEnd, then SpeechStart) but not the utterance.
//
// RFC 3389 comfort-noise packets go through ComfortNoise: each stands for
// one frame of background at the level it carries, which becomes the floor;
// it is never voiced.
//
// # Accuracy
//
// TestReport classifies the 500 ms windows of the fixtures of testdata/audio
// (made by its make.sh: espeak-ng speech in zh-CN and en at four levels,
// in white, pink, brown noise, rumble, mains hum, a buzz and babble at
// four SNRs, those noises alone, a hiss and digital silence, DTMF keys,
// dial, busy and test tones, and phrases with a pause, through G.711) and
// of held-out cases built from the embedded prompts and noises generated
// with other seeds, pitches and keys, prints the confusion matrices and the
// end-of-utterance timing, and holds them to the bounds of issues 4 and
// 10: speech told from silence in at least 97% of the windows, weak from
// normal speech in 90%, at most 5% of noise-only windows called speech, at
// most 1% of silent windows called anything else, steady noise from -30
// dBFS called Noise in 99%, no tone window called speech, and speech in
// noise heard in 95% of the windows at SNR 10 and 20 dB and 85% at 5 dB.
// Known limits: a crowd (babble) that starts suddenly out of silence reads
// as speech until the floor has risen to it, within FloorMs; a tone in a
// noise less than 20 dB below it may pass for a voice; hum or a buzz
// switched on for less than SteadyMs and off again may start speech as it
// stops; a synthetic voice holding a syllable level waits a frame or two
// longer for its level to move (within 300 ms of its first voiced frame
// on every fixture and prompt).
//
// # Feeding it
//
// Call Frame with every decoded frame the caller sends, in order;
// ComfortNoise for a comfort-noise packet; and Lost for every 20 ms in which
// nothing arrived (a lost packet, or a phone that stopped sending), so speech
// still ends after the hangover when the RTP stops. Do not feed zero frames
// for lost packets: a burst of zeros lowers the floor below a hiss. Frames
// of other lengths are measured whole but count as one frame, so split 40
// ms packets into two calls (a tone is looked for only in 20 ms frames).
//
// A Detector is not safe for concurrent use; it belongs to the goroutine that
// receives the call's audio. Frame, ComfortNoise and Lost allocate nothing;
// a frame costs a few hundred nanoseconds, a few microseconds when its
// periodicity is measured, and a few more when its tonality is too.
package vad
