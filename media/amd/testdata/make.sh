#!/usr/bin/env bash
# make.sh builds the spoken clips of media/amd's tests: what a person says on
# picking up the phone (h-*) and answering-machine greetings (m-*), made with
# espeak-ng in the telephone band and stored as 8 kHz G.711 μ-law WAV, the way
# a customer's audio reaches kefu. The tests put silence, noise and beeps
# around them themselves (amd_test.go), so only the speech is stored.
#
# Usage: media/amd/testdata/make.sh [OUTDIR]   (default: the script's directory)
# Needs espeak-ng and sox (Debian: apt-get install espeak-ng sox). The output
# is repeatable: sox runs with -D (no dither).
set -euo pipefail
export LC_ALL=C

out=${1:-$(cd "$(dirname "$0")" && pwd)}
mkdir -p "$out"
for tool in espeak-ng sox; do
	command -v "$tool" >/dev/null || { echo "make.sh: $tool not found" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# speak NAME VOICE SPEED PITCH TEXT: espeak-ng at 8 kHz in the telephone band,
# leading and trailing silence trimmed, peak at -6 dBFS, μ-law.
speak() {
	espeak-ng -v "$2" -s "$3" -p "$4" -w "$tmp/espeak.wav" "$5"
	sox -D -V1 "$tmp/espeak.wav" -r 8000 -c 1 -e u-law -b 8 "$out/$1.wav" \
		silence 1 0.01 0.1% reverse silence 1 0.01 0.1% reverse sinc 200-3600 norm -6
}

# A person picking up: short greetings, then they wait.
speak h-zh-wei-nihao-nawei cmn-latn-pinyin+f3 175 50 "wei2, ni3 hao3, na3 wei4?"
speak h-zh-wei cmn-latn-pinyin+m3 160 40 "wei2?"
speak h-zh-ninhao cmn-latn-pinyin+f2 170 60 "nin2 hao3."
speak h-zh-wei-ninhao cmn-latn-pinyin 160 35 "wei2, nin2 hao3."
speak h-zh-wei-shei cmn-latn-pinyin+f4 170 70 "wei2, shei2 ya5?"
speak h-en-hello en-us 165 45 "Hello?"
speak h-en-hello-who en-us+f3 165 60 "Hello, who is this?"
speak h-en-speaking en-us+m2 170 35 "Yes, speaking."

# Answering machines: voicemail greetings, long ones and short ones.
speak m-zh-carrier cmn-latn-pinyin+f3 170 50 \
	"nin2 hao3, nin2 bo1 da3 de5 dian4 hua4 zan4 shi2 wu2 ren2 jie1 ting1, qing3 zai4 ti2 shi4 yin1 hou4 liu2 yan2."
speak m-zh-personal cmn-latn-pinyin+m3 165 35 \
	"ni3 hao3, wo3 shi4 zhang1 wei3. wo3 xian4 zai4 bu4 fang1 bian4 jie1 dian4 hua4, qing3 liu2 yan2, wo3 hui4 hui2 fu4 nin2."
speak m-en-personal en-us 170 45 \
	"Hi, you have reached John Smith. I cannot take your call right now. Please leave a message after the tone."
speak m-en-carrier en-us+f3 165 60 \
	"The person you are calling is not available. Please leave a message after the beep."
speak m-zh-short cmn-latn-pinyin+f2 170 60 "qing3 liu2 yan2."
speak m-en-short en-us+f5 170 55 "Leave a message."
