// Package g711 converts between 16-bit linear PCM and G.711 μ-law (PCMU) and
// A-law (PCMA) payloads, one sample per byte. It wraps github.com/zaf/g711
// with slice-to-slice functions that allocate nothing, for the per-packet
// paths, and a codec switch on media.Codec.
package g711

import (
	"fmt"

	"github.com/kefu-hotline/kefu/media"
	"github.com/zaf/g711"
)

var (
	ulawDecode [256]int16
	alawDecode [256]int16
)

func init() {
	for i := range 256 {
		ulawDecode[i] = g711.DecodeUlawFrame(uint8(i))
		alawDecode[i] = g711.DecodeAlawFrame(uint8(i))
	}
}

// SilenceUlaw is the μ-law byte for digital silence (the idle pattern).
const SilenceUlaw = 0xFF

// SilenceAlaw is the A-law byte for digital silence (the idle pattern).
const SilenceAlaw = 0xD5

// EncodeUlaw encodes src into dst, which must be at least len(src) long.
func EncodeUlaw(dst []byte, src []int16) {
	dst = dst[:len(src)]
	for i, s := range src {
		dst[i] = g711.EncodeUlawFrame(s)
	}
}

// EncodeAlaw encodes src into dst, which must be at least len(src) long.
func EncodeAlaw(dst []byte, src []int16) {
	dst = dst[:len(src)]
	for i, s := range src {
		dst[i] = g711.EncodeAlawFrame(s)
	}
}

// DecodeUlaw decodes src into dst, which must be at least len(src) long.
func DecodeUlaw(dst []int16, src []byte) {
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = ulawDecode[b]
	}
}

// DecodeAlaw decodes src into dst, which must be at least len(src) long.
func DecodeAlaw(dst []int16, src []byte) {
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = alawDecode[b]
	}
}

// Encode encodes src into dst with codec c.
func Encode(c media.Codec, dst []byte, src []int16) error {
	switch c {
	case media.CodecPCMU:
		EncodeUlaw(dst, src)
	case media.CodecPCMA:
		EncodeAlaw(dst, src)
	default:
		return fmt.Errorf("g711: cannot encode %v", c)
	}
	return nil
}

// Decode decodes src into dst with codec c.
func Decode(c media.Codec, dst []int16, src []byte) error {
	switch c {
	case media.CodecPCMU:
		DecodeUlaw(dst, src)
	case media.CodecPCMA:
		DecodeAlaw(dst, src)
	default:
		return fmt.Errorf("g711: cannot decode %v", c)
	}
	return nil
}

// Silence returns the idle byte of codec c.
func Silence(c media.Codec) byte {
	if c == media.CodecPCMA {
		return SilenceAlaw
	}
	return SilenceUlaw
}
