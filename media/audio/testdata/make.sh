#!/bin/sh
# Makes the MP3 test fixtures of packages media/audio and prompts. Needs sox and lame
# (Debian: apt-get install sox lame). Run from this directory: sh make.sh
#
# lame picks a lower rate by itself at low bitrates, hence --resample on
# every line.
#
# Every fixture is 0.5 s: 0.1 s of silence, a 440 Hz tone at amplitude 0.25
# (-12 dBFS peak) for 0.3 s, 0.1 s of silence. The tests check length,
# tone onset and level after decoding to 8 kHz.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tone() { # rate channels out.wav
	sox -D -n -r "$1" -c "$2" -b 16 "$3" synth 0.3 sine 440 vol 0.25 pad 0.1 0.1
}

tone 44100 1 "$tmp/44100m.wav"
tone 44100 2 "$tmp/44100s.wav"
tone 48000 1 "$tmp/48000m.wav"
tone 48000 2 "$tmp/48000s.wav"
tone 22050 1 "$tmp/22050m.wav"
tone 22050 2 "$tmp/22050s.wav"
tone 16000 1 "$tmp/16000m.wav"

# MPEG-1, with an ID3v2 tag in front.
lame --quiet -m m -b 64 --resample 44.1 --tt "kefu fixture" --id3v2-only "$tmp/44100m.wav" tone_44100_mono.mp3
# MPEG-1 stereo and mono.
lame --quiet -m s -b 128 --resample 44.1 "$tmp/44100s.wav" tone_44100_stereo.mp3
lame --quiet -m m -b 64 --resample 48 "$tmp/48000m.wav" tone_48000_mono.mp3
# MPEG-1 joint stereo.
lame --quiet -m j -b 128 --resample 48 "$tmp/48000s.wav" tone_48000_stereo.mp3
# MPEG-2, as prompts/gen makes them.
lame --quiet -m m --abr 24 -q 2 --resample 22.05 "$tmp/22050m.wav" tone_22050_mono.mp3
lame --quiet -m s -b 64 --resample 22.05 "$tmp/22050s.wav" tone_22050_stereo.mp3
# MPEG-2 CBR 32 kbps at 16 kHz: the frame is too small for a LAME tag, so
# this one has no gapless information.
lame --quiet -m m -b 32 --resample 16 "$tmp/16000m.wav" tone_16000_notag.mp3
# MPEG-2.5 (8 kHz), which go-mp3 refuses.
lame --quiet -m m -b 16 --resample 8 "$tmp/22050m.wav" tone_8000.mp3
