#!/usr/bin/env bash
# make.sh builds the line-condition fixtures of media/vad and media/dtmf:
# speech at four levels, speech in white, pink and babble noise at four
# SNRs, noise alone, a low hiss and digital silence, every file passed
# through G.711 μ-law and back, as a caller's audio reaches kefu.
#
# Usage: testdata/audio/make.sh [OUTDIR]   (default: the script's directory)
# Needs espeak-ng and sox (Debian: apt-get install espeak-ng sox).
# Output: 8 kHz 16-bit mono WAV files and fixtures.tsv, which says what each
# file holds (the tests read their ground truth from it). The output is
# byte-for-byte repeatable: sox runs with -R (seeded noise) and -D (no
# dither).
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
	echo "# $NORMAL dBFS over noise from the first sample), noise, hiss or silence."
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

echo "make.sh: wrote $(($(wc -l <"$manifest") - 4)) fixtures to $out"
