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
		// Landlines: the area code (3 digits for 010 and 02x, else 4), then
		// groups of 4 from the left; a local number of 8 digits 4-4.
		{zh, "01065521234", "0 yao 0 | 6 5 5 2 | yao 2 3 4"},
		{zh, "02188881234", "0 2 yao | 8 8 8 8 | yao 2 3 4"},
		{zh, "075588881234", "0 7 5 5 | 8 8 8 8 | yao 2 3 4"},
		{zh, "05718888123", "0 5 7 yao | 8 8 8 8 | yao 2 3"},
		{zh, "65521234", "6 5 5 2 | yao 2 3 4"},
		{zh, "0755 8888 1234", "0 7 5 5 | 8 8 8 8 | yao 2 3 4"}, // as written
		{zh, "1234567", "yao 2 3 4 5 6 7"},
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
		0: "0", 1: "1", 2: "2", 3: "3", 10: "十", 11: "十1", 15: "十5", 23: "2十3", 40: "4十",
		100: "yi4百", 105: "yi4百05", 110: "yi4百1十", 999: "9百9十9",
	} {
		ps, err := c.Cardinal(n)
		if err != nil {
			t.Fatal(err)
		}
		if got := spell(ps); got != want {
			t.Errorf("Cardinal(%d) = %s, want %s", n, got, want)
		}
	}
	if _, err := c.Cardinal(1000); err == nil {
		t.Error("Cardinal(1000): no error")
	}
}

// spell writes count pieces as "yi2", "liang", "十", "5".
func spell(ps []*Prompt) string {
	var b strings.Builder
	for _, p := range ps {
		switch p.ID {
		case "num.ten":
			b.WriteString("十")
		case "num.hundred":
			b.WriteString("百")
		default:
			b.WriteString(strings.TrimPrefix(strings.TrimPrefix(p.ID, "digit."), "num."))
		}
	}
	return b.String()
}

// TestCount: counts before a unit take 两 and the tone change of 一 that
// the unit's first syllable asks for (CS-SPEECH): 一位 yí wèi, 一分钟 yì
// fēnzhōng.
func TestCount(t *testing.T) {
	zh, err := LoadEmbedded("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	en, err := LoadEmbedded("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    *Catalog
		n    int
		unit string
		want string
	}{
		{zh, 1, "unit.position", "yi2"},
		{zh, 1, "unit.minute", "yi4"},
		{zh, 2, "unit.position", "liang"},
		{zh, 2, "unit.minute", "liang"},
		{zh, 3, "unit.minute", "3"},
		{zh, 11, "unit.position", "十1"},
		{zh, 12, "unit.minute", "十2"},
		{zh, 21, "unit.minute", "2十1"},
		{zh, 100, "unit.minute", "yi4百"},
		{zh, 0, "unit.minute", "0"},
		{en, 1, "unit.position", "1"},
		{en, 2, "unit.minute", "2"},
	} {
		ps, err := tc.c.Count(tc.n, tc.unit)
		if err != nil {
			t.Fatalf("%s: Count(%d, %s): %v", tc.c.Lang(), tc.n, tc.unit, err)
		}
		if got := spell(ps); got != tc.want {
			t.Errorf("%s: Count(%d, %s) = %s, want %s", tc.c.Lang(), tc.n, tc.unit, got, tc.want)
		}
	}

	// The unit's reading decides, overrides included; a set without the
	// pieces says the digits.
	c := textCatalog("zh-CN", map[string]string{"digit.1": "一", "digit.2": "二", "num.yi2": "一", "num.yi4": "一", "num.liang": "两",
		"unit.ge": "个", "unit.tian": "天", "unit.ci": "次", "unit.odd": "行"})
	c.pinyin = map[string]string{"unit.odd": "行=hang2"}
	for unit, want := range map[string]string{"unit.ge": "yi2", "unit.tian": "yi4", "unit.ci": "yi2", "unit.odd": "yi4"} {
		if ps, err := c.Count(1, unit); err != nil || spell(ps) != want {
			t.Errorf("Count(1, %s) = %s, %v; want %s", unit, spell(ps), err, want)
		}
	}
	plain := textCatalog("zh-CN", map[string]string{"digit.1": "一", "digit.2": "二", "unit.position": "位"})
	for n, want := range map[int]string{1: "1", 2: "2"} {
		if ps, err := plain.Count(n, "unit.position"); err != nil || spell(ps) != want {
			t.Errorf("without the count pieces, Count(%d) = %s, %v; want %s", n, spell(ps), err, want)
		}
	}
	if _, err := zh.Count(1, "unit.none"); !errors.Is(err, ErrMissing) {
		t.Errorf("Count with a unit the set lacks: %v, want ErrMissing", err)
	}
	if _, err := zh.Count(1000, "unit.minute"); !errors.Is(err, ErrNumber) {
		t.Errorf("Count(1000): %v, want ErrNumber", err)
	}
}

// TestUnit: English says one minute and two minutes; a set without the
// singular (Chinese) keeps its one unit.
func TestUnit(t *testing.T) {
	en, err := LoadEmbedded("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n    int
		unit string
		want string
	}{
		{1, "unit.minute", "unit.minute.one"},
		{2, "unit.minute", "unit.minute"},
		{1, "unit.position", "unit.position.one"},
		{0, "unit.position", "unit.position"},
		{1, "unit.fen", "unit.fen"}, // no singular recorded
	} {
		if got := en.Unit(tc.n, tc.unit); got != tc.want {
			t.Errorf("Unit(%d, %s) = %s, want %s", tc.n, tc.unit, got, tc.want)
		}
	}
	if p, _ := en.Get("unit.minute.one"); p == nil || p.Text != "minute" {
		t.Errorf("en unit.minute.one: %v", p)
	}
}
