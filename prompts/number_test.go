package prompts

import (
	"errors"
	"strings"
	"testing"
)

func TestNumber(t *testing.T) {
	zh, err := LoadEmbedded("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	en, err := LoadEmbedded("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c      *Catalog
		digits string
		want   string
	}{
		{zh, "13812345678", "yao 3 8 | yao 2 3 4 | 5 6 7 8"}, // a mobile: 3-4-4, 1 as 幺
		{zh, "010-6552 1234", "0 yao 0 | 6 5 5 2 | yao 2 3 4"},
		{zh, "+8610", "8 6 yao 0"},
		{zh, "95105", "9 5 yao 0 5"},
		{en, "13812345678", "1 3 8 | 1 2 3 4 | 5 6 7 8"},
		{en, "400 820 0000", "4 0 0 | 8 2 0 | 0 0 0 0"},
	} {
		ps, err := tc.c.Number(tc.digits)
		if err != nil {
			t.Fatalf("%s: Number(%q): %v", tc.c.Lang(), tc.digits, err)
		}
		var got []string
		for _, p := range ps {
			if p.ID == PauseID {
				got = append(got, "|")
				if p.Duration() != GroupPause {
					t.Errorf("pause lasts %v", p.Duration())
				}
				continue
			}
			got = append(got, strings.TrimPrefix(p.ID, "digit."))
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%s: Number(%q) = %s, want %s", tc.c.Lang(), tc.digits, g, tc.want)
		}
	}

	for _, bad := range []string{"", " - ", "138*1234", "１３８"} {
		_, err := zh.Number(bad)
		if !errors.Is(err, ErrNumber) {
			t.Errorf("Number(%q): %v, want ErrNumber", bad, err)
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("Number(%q): the error quotes the number: %v", bad, err)
		}
	}
	noDigits := textCatalog("zh-CN", map[string]string{"digit.0": "零"})
	if _, err := noDigits.Number("01"); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), `"digit.1"`) {
		t.Errorf("missing digit.1: %v", err)
	}
}

func TestCardinal(t *testing.T) {
	c, err := LoadEmbedded("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]string{
		0: "0", 3: "3", 10: "十", 15: "十5", 23: "2十3", 40: "4十", 100: "1百", 105: "1百05", 110: "1百1十", 999: "9百9十9",
	} {
		ps, err := c.Cardinal(n)
		if err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		for _, p := range ps {
			switch p.ID {
			case "num.ten":
				got.WriteString("十")
			case "num.hundred":
				got.WriteString("百")
			default:
				got.WriteString(strings.TrimPrefix(p.ID, "digit."))
			}
		}
		if got.String() != want {
			t.Errorf("Cardinal(%d) = %s, want %s", n, got.String(), want)
		}
	}
	if _, err := c.Cardinal(1000); err == nil {
		t.Error("Cardinal(1000): no error")
	}
}
