#!/usr/bin/env bash
# make.sh builds the line-condition fixtures of media/vad and media/dtmf:
# speech at four levels, speech in white, pink and babble noise at four
# SNRs, noise alone, a low hiss and digital silence, every file passed
# through G.711 μ-law and back, as a caller's audio reaches kefu; and
# (issue 10) speech in brown noise, mains hum, a buzz and rumble and those
# noises alone, DTMF keys and dial, busy and test tones (in tones/), and
# phrases with a 350 ms pause (phrases.tsv), written as μ-law WAV.
#
# Usage: testdata/audio/make.sh [OUTDIR]   (default: the script's directory)
# Needs espeak-ng and sox (Debian: apt-get install espeak-ng sox).
# Output: 8 kHz mono WAV files (16-bit PCM, or μ-law for those of issue 10),
# fixtures.tsv, which says what each file holds (the tests read their ground
# truth from it), and phrases.tsv. The output is byte-for-byte repeatable:
# sox runs with -R (seeded noise) and -D (no dither).
set -euo pipefail
export LC_ALL=C

out=${1:-$(cd "$(dirname "$0")" && pwd)}
mkdir -p "$out"
for tool in espeak-ng sox; do
	command -v "$tool" >/dev/null || { echo "make.sh: $tool not found" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

readonly RATE=8000
readonly SPEECH_SECS=4   # lead 0.5 s, about 3 s of speech, the rest silence
readonly LEAD=0.5
readonly NOISE_SECS=3    # noise-only, hiss and silence files
readonly NORMAL=-20      # speech level of the noisy mixes, dBFS
# The telephone band: phones filter what the microphone hears to about
# 200..3600 Hz before the codec.
readonly BAND="sinc 200-3600"

sx() { sox -R -D -V1 "$@"; }

# rms FILE prints the RMS level of FILE in dBFS (0 dBFS: full-scale square).
rms() { sx "$1" -n stats 2>&1 | awk '/^RMS lev dB/ {print $4}'; }

# active FILE prints the active speech level of FILE in dBFS: the RMS with
# the pauses (stretches of 20 ms or more, 35 dB below the peak of a file
# peaking at -3 dBFS) left out.
active() { sx "$1" -n silence 1 0.02 -38d -1 0.02 -38d stats 2>&1 | awk '/^RMS lev dB/ {print $4}'; }

# gain_to FILE OUT TARGET CURRENT writes FILE scaled from CURRENT to TARGET dBFS.
gain_to() { sx "$1" "$2" gain "$(awk -v t="$3" -v c="$4" 'BEGIN {printf "%.3f", t - c}')"; }

# ulaw IN OUT passes IN through G.711 μ-law and back to 16-bit PCM.
ulaw() {
	sx "$1" -t ul "$tmp/ulaw.ul"
	sx -t ul -r $RATE -c 1 "$tmp/ulaw.ul" -e signed-integer -b 16 "$2"
}

# speak VOICE SPEED PITCH TEXT OUT: espeak-ng at 8 kHz in the telephone band,
# leading and trailing silence trimmed, peak at -3 dBFS.
speak() {
	espeak-ng -v "$1" -s "$2" -p "$3" -w "$tmp/espeak.wav" "$4"
	sx "$tmp/espeak.wav" -r $RATE -c 1 -b 16 "$5" \
		silence 1 0.01 0.1% reverse silence 1 0.01 0.1% reverse $BAND norm -3
}

manifest="$out/fixtures.tsv"
{
	echo "# Written by make.sh: what each fixture holds. Levels in dBFS; snr in dB."
	echo "# kind is speech (clean speech after ${LEAD} s of silence), mix (speech at"
	echo "# $NORMAL dBFS over noise from the first sample), noise, hiss, silence, tone"
	echo "# (noise is the tone: dtmf, or its Hz) or phrase (its parts in phrases.tsv)."
	printf '#file\tkind\tlang\tspeech_db\tnoise\tnoise_db\tsnr_db\n'
} >"$manifest"
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$manifest"; }

# --- Clean speech: one utterance per language. -----------------------------
# zh-CN: a female variant of the pinyin voice (the embedded prompts are the
# male one); en: the plain en-us voice.
speak cmn-latn-pinyin+f3 175 50 "ni3 hao3, wo3 xiang3 cha2 yi2 xia4 wo3 de5 zhang4 dan1." "$tmp/zh.wav"
speak en-us 165 45 "Hello, I would like to check my bill, thanks." "$tmp/en.wav"

for lang in zh en; do
	level=$(active "$tmp/$lang.wav")
	for db in -20 -30 -40 -50; do
		gain_to "$tmp/$lang.wav" "$tmp/lvl.wav" "$db" "$level"
		sx "$tmp/lvl.wav" "$tmp/padded.wav" pad $LEAD $SPEECH_SECS trim 0 $SPEECH_SECS
		ulaw "$tmp/padded.wav" "$out/$lang-speech$db.wav"
		row "$lang-speech$db.wav" speech "$lang" "$db" - - -
	done
	gain_to "$tmp/$lang.wav" "$tmp/$lang-normal.wav" $NORMAL "$level"
	sx "$tmp/$lang-normal.wav" "$tmp/$lang-padded.wav" pad $LEAD $SPEECH_SECS trim 0 $SPEECH_SECS
done

# --- Noise beds, $SPEECH_SECS long, in the telephone band, at 0 dBFS RMS
# reference (scaled per use). -------------------------------------------------
sx -n -r $RATE -c 1 -b 16 "$tmp/white-raw.wav" synth $SPEECH_SECS whitenoise vol 0.3 $BAND
sx -n -r $RATE -c 1 -b 16 "$tmp/pink-raw.wav" synth $SPEECH_SECS pinknoise vol 0.3 $BAND

# Babble: eight talkers (four zh-CN, four en; different variants, pitches
# and rates) saying other sentences, each from a different point in its
# sentence, summed at equal levels: a room full of people, no one
# talker standing out.
babble_text_zh="jin1 tian1 tian1 qi4 hen3 hao3, wo3 men5 qu4 gong1 yuan2 san4 bu4 ba5, ran2 hou4 zai4 qu4 chao1 shi4 mai3 dian3 dong1 xi1, wan3 shang4 hui2 jia1 zuo4 fan4."
babble_text_en="The meeting was moved to Thursday afternoon, so please bring the quarterly report and the new price list, and tell the others before lunch."
i=0
for talker in "cmn-latn-pinyin 170 40" "cmn-latn-pinyin+f2 180 60" "cmn-latn-pinyin+m3 160 30" "cmn-latn-pinyin+f4 190 70" \
	"en-us 170 50" "en-us+f3 160 65" "en-us+m2 180 35" "en-us+f5 175 55"; do
	read -r voice speed pitch <<<"$talker"
	text=$babble_text_en
	[[ $voice == cmn* ]] && text=$babble_text_zh
	speak "$voice" "$speed" "$pitch" "$text" "$tmp/talker.wav"
	# Start each talker at a different point; loop it to fill the bed.
	offset=$(awk -v i=$i 'BEGIN {printf "%.2f", 0.5 + 0.37 * i}')
	sx "$tmp/talker.wav" "$tmp/talker.wav" "$tmp/talker-loop.wav"
	sx "$tmp/talker-loop.wav" "$tmp/talker-$i.wav" trim "$offset" $SPEECH_SECS
	gain_to "$tmp/talker-$i.wav" "$tmp/talker-$i-n.wav" -30 "$(rms "$tmp/talker-$i.wav")"
	i=$((i + 1))
done
talkers=()
for t in "$tmp"/talker-?-n.wav; do talkers+=(-v 1 "$t"); done
sx -m "${talkers[@]}" "$tmp/babble-raw.wav"

# --- Speech in noise. ------------------------------------------------------
for noise in white pink babble; do
	bed=$tmp/$noise-raw.wav
	bed_db=$(rms "$bed")
	for snr in 20 10 5 0; do
		ndb=$((NORMAL - snr))
		gain_to "$bed" "$tmp/bed.wav" "$ndb" "$bed_db"
		for lang in zh en; do
			sx -m -v 1 "$tmp/$lang-padded.wav" -v 1 "$tmp/bed.wav" "$tmp/mix.wav"
			ulaw "$tmp/mix.wav" "$out/$lang-$noise-snr$snr.wav"
			row "$lang-$noise-snr$snr.wav" mix "$lang" $NORMAL "$noise" "$ndb" "$snr"
		done
	done
	# --- Noise alone. --------------------------------------------------------
	for db in -20 -30 -40 -50; do
		gain_to "$bed" "$tmp/bed.wav" "$db" "$bed_db"
		sx "$tmp/bed.wav" "$tmp/cut.wav" trim 0 $NOISE_SECS
		ulaw "$tmp/cut.wav" "$out/noise-$noise$db.wav"
		row "noise-$noise$db.wav" noise - - "$noise" "$db" -
	done
done

# --- A low hiss and digital silence. --------------------------------------
gain_to "$tmp/white-raw.wav" "$tmp/bed.wav" -55 "$(rms "$tmp/white-raw.wav")"
sx "$tmp/bed.wav" "$tmp/cut.wav" trim 0 $NOISE_SECS
ulaw "$tmp/cut.wav" "$out/hiss-55.wav"
row hiss-55.wav hiss - - white -55 -
sx -n -r $RATE -c 1 -b 16 "$tmp/zero.wav" trim 0 $NOISE_SECS
ulaw "$tmp/zero.wav" "$out/silence.wav"
row silence.wav silence - - - - -

# --- Issue 10: more colours of noise, tones, phrases with a pause. --------
# These files are written as μ-law WAV (8 bits a sample, format tag 7): the
# same G.711 bytes a caller's phone sends, half the size of 16-bit PCM; they
# decode to the samples the round trip above gives.

# ulaw8 IN OUT writes IN through G.711 μ-law as a μ-law WAV file.
ulaw8() { sx "$1" -e u-law -b 8 "$2"; }

# More noise beds, $SPEECH_SECS long:
# - brown: brown (1/f²) noise in the telephone band, most of its power just
#   above 200 Hz;
# - hum: mains hum picked up on the line after the phone's filter: 50 Hz
#   with harmonics at 100, 150, 250 and 350 Hz (the odd ones strongest);
# - buzz: a 100 Hz sawtooth (a buzz full of harmonics, like a voice with a
#   steady pitch) in the telephone band;
# - rumble: fan or road rumble, brown noise band-passed to 100-500 Hz.
sx -n -r $RATE -c 1 -b 16 "$tmp/brown-raw.wav" synth $SPEECH_SECS brownnoise vol 0.3 $BAND
sx -n -r $RATE -c 5 -b 16 "$tmp/hum5.wav" synth $SPEECH_SECS sine 50 sine 100 sine 150 sine 250 sine 350
sx "$tmp/hum5.wav" "$tmp/hum-raw.wav" remix 1v0.5,2v0.2,3v0.5,4v0.3,5v0.15
sx -n -r $RATE -c 1 -b 16 "$tmp/buzz-raw.wav" synth $SPEECH_SECS sawtooth 100 vol 0.3 $BAND
sx -n -r $RATE -c 1 -b 16 "$tmp/rumble-raw.wav" synth $SPEECH_SECS brownnoise vol 0.3 sinc 100-500

for noise in brown hum buzz rumble; do
	bed=$tmp/$noise-raw.wav
	bed_db=$(rms "$bed")
	for snr in 20 10 5 0; do
		ndb=$((NORMAL - snr))
		gain_to "$bed" "$tmp/bed.wav" "$ndb" "$bed_db"
		for lang in zh en; do
			sx -m -v 1 "$tmp/$lang-padded.wav" -v 1 "$tmp/bed.wav" "$tmp/mix.wav"
			ulaw8 "$tmp/mix.wav" "$out/$lang-$noise-snr$snr.wav"
			row "$lang-$noise-snr$snr.wav" mix "$lang" $NORMAL "$noise" "$ndb" "$snr"
		done
	done
	for db in -10 -20 -30 -40 -50; do
		gain_to "$bed" "$tmp/bed.wav" "$db" "$bed_db"
		sx "$tmp/bed.wav" "$tmp/cut.wav" trim 0 $NOISE_SECS
		ulaw8 "$tmp/cut.wav" "$out/noise-$noise$db.wav"
		row "noise-$noise$db.wav" noise - - "$noise" "$db" -
	done
done

# --- Tones, in tones/ (media/dtmf's tests read every *.wav here as speech
# and noise that must raise no key). Levels are RMS of the whole tone: a
# DTMF pair at -13 dBFS has its two sinusoids at -16 dBFS each.
mkdir -p "$out/tones"
# tone FREQS... : one tone's sinusoids summed, each at 0 dBFS peak/√2.
# dtmf DIGIT: the frequencies of a key.
dtmf() {
	local rows=(697 697 697 697 770 770 770 770 852 852 852 852 941 941 941 941)
	local cols=(1209 1336 1477 1633)
	local keys=123A456B789C*0#D
	local i=${keys%%"$1"*}
	i=${#i}
	echo "${rows[$i]} ${cols[$((i % 4))]}"
}
# pair SECS F1 F2 OUT DB: two sinusoids of equal level, at DB dBFS in all.
pair() {
	sx -n -r $RATE -c 2 -b 16 "$tmp/pair2.wav" synth "$1" sine "$2" sine "$3"
	sx "$tmp/pair2.wav" "$tmp/pair1.wav" remix 1v0.5,2v0.5
	gain_to "$tmp/pair1.wav" "$4" "$5" "$(rms "$tmp/pair1.wav")"
}
# single SECS F OUT DB: one sinusoid at DB dBFS.
single() {
	sx -n -r $RATE -c 1 -b 16 "$tmp/single.wav" synth "$1" sine "$2"
	gain_to "$tmp/single.wav" "$3" "$4" "$(rms "$tmp/single.wav")"
}
# gap SECS OUT: digital silence.
gap() { sx -n -r $RATE -c 1 -b 16 "$2" trim 0 "$1"; }

# Every key, 160 ms on and 140 ms off, after 0.5 s of silence: a PBX set
# to in-band DTMF.
parts=()
gap $LEAD "$tmp/lead.wav"
parts+=("$tmp/lead.wav")
gap 0.14 "$tmp/off.wav"
i=0
for key in 1 2 3 A 4 5 6 B 7 8 9 C '*' 0 '#' D; do
	read -r f1 f2 <<<"$(dtmf "$key")"
	pair 0.16 "$f1" "$f2" "$tmp/key-$i.wav" -13
	parts+=("$tmp/key-$i.wav" "$tmp/off.wav")
	i=$((i + 1))
done
sx "${parts[@]}" "$tmp/keys.wav"
ulaw8 "$tmp/keys.wav" "$out/tones/dtmf-160.wav"
row tones/dtmf-160.wav tone - - dtmf -13 -
# Key 5 held 40, 60, ... 200 ms, 200 ms apart.
parts=("$tmp/lead.wav")
gap 0.2 "$tmp/off.wav"
for ms in 40 60 80 100 120 140 160 180 200; do
	pair "0.$(printf %03d $ms)" 770 1336 "$tmp/key-$ms.wav" -13
	parts+=("$tmp/key-$ms.wav" "$tmp/off.wav")
done
sx "${parts[@]}" "$tmp/keys.wav"
ulaw8 "$tmp/keys.wav" "$out/tones/dtmf-durations.wav"
row tones/dtmf-durations.wav tone - - dtmf -13 -
# Dial tones (450 Hz in China, 425 Hz in much of Europe) and a 1 kHz test
# tone, continuous after 0.5 s of silence; the Chinese busy tone (450 Hz,
# 350 ms on, 350 ms off).
for spec in "dial-450 450 -13" "dial-425 425 -13" "test-1k 1000 -13" "test-1k-30 1000 -30"; do
	read -r name f db <<<"$spec"
	single $NOISE_SECS "$f" "$tmp/tone.wav" "$db"
	sx "$tmp/lead.wav" "$tmp/tone.wav" "$tmp/cut.wav" trim 0 $NOISE_SECS
	ulaw8 "$tmp/cut.wav" "$out/tones/$name.wav"
	row "tones/$name.wav" tone - - "$f" "$db" -
done
single 0.35 450 "$tmp/on.wav" -13
gap 0.35 "$tmp/off.wav"
sx "$tmp/lead.wav" "$tmp/on.wav" "$tmp/off.wav" "$tmp/on.wav" "$tmp/off.wav" "$tmp/on.wav" "$tmp/off.wav" \
	"$tmp/on.wav" "$tmp/off.wav" "$tmp/cut.wav"
ulaw8 "$tmp/cut.wav" "$out/tones/busy-450.wav"
row tones/busy-450.wav tone - - 450 -13 -

# --- Phrases: two parts of one sentence with a 350 ms pause between them,
# then silence, so the end of the utterance is known: for the end-of-
# utterance timing of the accuracy report. phrases.tsv gives the spoken
# parts of each file in ms. Clean at -20 and -40 dBFS (weak), and at
# -20 dBFS in white, brown and hum noise at SNR 10 dB.
readonly PAUSE=0.35
readonly PHRASE_SECS=7.5
phrases="$out/phrases.tsv"
{
	echo "# Written by make.sh: the spoken parts of each phrase file, in ms from its start."
	printf '#file\tparts\n'
} >"$phrases"
for lang in zh en; do
	if [[ $lang == zh ]]; then
		speak cmn-latn-pinyin+f3 175 50 "wo3 shang4 ge4 xing1 qi1 da3 guo4 dian4 hua4," "$tmp/pa.wav"
		speak cmn-latn-pinyin+f3 175 50 "dan4 shi4 yi1 zhi2 mei2 you3 ren2 hui2 fu4 wo3." "$tmp/pb.wav"
	else
		speak en-us 165 45 "I called about my bill last week," "$tmp/pa.wav"
		speak en-us 165 45 "but nobody has called me back yet." "$tmp/pb.wav"
	fi
	gap $PAUSE "$tmp/pause.wav"
	sx "$tmp/pa.wav" "$tmp/pause.wav" "$tmp/pb.wav" "$tmp/phrase.wav"
	level=$(active "$tmp/phrase.wav")
	a=$(sox --i -s "$tmp/pa.wav")
	b=$(sox --i -s "$tmp/pb.wav")
	parts=$(awk -v l=$LEAD -v a="$a" -v b="$b" -v p=$PAUSE -v r=$RATE 'BEGIN {
		s1 = l * 1000; e1 = s1 + a * 1000 / r; s2 = e1 + p * 1000; e2 = s2 + b * 1000 / r
		printf "%.0f-%.0f %.0f-%.0f", s1, e1, s2, e2 }')
	for db in -20 -40; do
		gain_to "$tmp/phrase.wav" "$tmp/lvl.wav" "$db" "$level"
		sx "$tmp/lvl.wav" "$tmp/padded.wav" pad $LEAD $PHRASE_SECS trim 0 $PHRASE_SECS
		ulaw8 "$tmp/padded.wav" "$out/$lang-phrase$db.wav"
		row "$lang-phrase$db.wav" phrase "$lang" "$db" - - -
		printf '%s\t%s\n' "$lang-phrase$db.wav" "$parts" >>"$phrases"
		[[ $db == -20 ]] && cp "$tmp/padded.wav" "$tmp/$lang-phrase.wav"
	done
	for noise in white brown hum; do
		gain_to "$tmp/$noise-raw.wav" "$tmp/bed4.wav" $((NORMAL - 10)) "$(rms "$tmp/$noise-raw.wav")"
		# The bed is $SPEECH_SECS long: loop it to the phrase's length.
		sx "$tmp/bed4.wav" "$tmp/bed4.wav" "$tmp/bed8.wav"
		sx -m -v 1 "$tmp/$lang-phrase.wav" -v 1 "$tmp/bed8.wav" "$tmp/mix.wav" trim 0 $PHRASE_SECS
		ulaw8 "$tmp/mix.wav" "$out/$lang-phrase-$noise-snr10.wav"
		row "$lang-phrase-$noise-snr10.wav" phrase "$lang" $NORMAL "$noise" $((NORMAL - 10)) 10
		printf '%s\t%s\n' "$lang-phrase-$noise-snr10.wav" "$parts" >>"$phrases"
	done
done

echo "make.sh: wrote $(($(wc -l <"$manifest") - 5)) fixtures to $out"
