package screen

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParsePattern(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"13812345678", "13812345678", ""},
		{" 138-1234 5678 ", "13812345678", ""},
		{"+8613812345678", "13812345678", ""}, // stored as callers are matched (callerid.Normalize)
		{"0086 10 1234 5678", "01012345678", ""},
		{"400*", "400*", ""},
		{"+86400*", "0400*", ""},
		{"+86139*", "139*", ""},
		{"+861*", "", "at least 3 digits"},
		{"95*", "", "at least 3 digits"},
		{"*", "", "only digits"},
		{"", "", "empty"},
		{"^138.*$", "", "regular expressions are not patterns"},
		{"138*5", "", "only digits"},
		{"1380013800*0", "", "only digits"},
		{"++86138", "", "only digits"},
		{"alice", "", "only digits"},
		{strings.Repeat("1", 33), "", "more than 32 digits"},
	} {
		got, err := ParsePattern(tc.in)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParsePattern(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		var ve *ValidationError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) || ve.Field != "pattern" || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParsePattern(%q): error %v; want a pattern error about %q", tc.in, err, tc.err)
		}
		if len(tc.in) > 8 && strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
			t.Errorf("ParsePattern(%q): error %q shows the pattern unmasked", tc.in, err)
		}
	}
}

func TestCandidates(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"13812345", []string{"13812345", "13812345*", "1381234*", "138123*", "13812*", "1381*", "138*"}},
		{"+86138123", []string{"0138123", "0138123*", "013812*", "01381*", "0138*", "013*"}},
		{"+14155550", []string{"+14155550", "+14155550*", "+1415555*", "+141555*", "+14155*", "+1415*", "+141*"}},
		{"138", []string{"138", "138*"}},
		{"40", []string{"40"}},
		{"alice", nil},
		{"", nil},
	} {
		if got := candidates(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("candidates(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBetter(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"138", "13800*", true},
		{"13800*", "138", false},
		{"13800*", "138*", true},
		{"138*", "13800*", false},
	} {
		if got := better(tc.a, tc.b); got != tc.want {
			t.Errorf("better(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestMaskPattern(t *testing.T) {
	if got := MaskPattern("13812345*"); got != "138***45*" {
		t.Errorf("MaskPattern = %q", got)
	}
}
