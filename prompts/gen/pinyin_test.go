package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-hotline/kefu/prompts/internal/textfile"
)

func TestToPinyin(t *testing.T) {
	tests := []struct{ text, overrides, want string }{
		{"您好", "", "nin2 hao3"},
		{"好的,我明白了。", "明白了=ming2 bai5 le5", "hao3 de5, wo3 ming2 bai5 le5."},
		// Punctuation becomes pauses; the longer one wins; none at the start.
		{"!您好,,再见!?", "", "nin2 hao3, zai4 jian4."},
		// 不 and 一 sandhi.
		{"不要不好", "", "bu2 yao4 bu4 hao3"},
		{"一部一点一", "", "yi2 bu4 yi4 dian3 yi1"},
		{"对不起", "对不起=dui4 bu5 qi3", "dui4 bu5 qi3"},
		// Overrides: longest first, and they are not changed by sandhi.
		{"重讲一遍", "重=zhong4;重讲=chong2 jiang3", "chong2 jiang3 yi2 bian4"},
		{"一样", "一=yi1", "yi1 yang4"},
		// Numbers are read in Chinese.
		{"在24小时内", "", "zai4 er4 shi2 si4 xiao3 shi2 nei4"},
		{"拨打 95555", "", "bo1 da3 jiu3 wu3 wu3 wu3 wu3"},
	}
	for _, tc := range tests {
		got, err := toPinyin(tc.text, tc.overrides)
		if err != nil {
			t.Errorf("toPinyin(%q, %q): %v", tc.text, tc.overrides, err)
			continue
		}
		if got != tc.want {
			t.Errorf("toPinyin(%q, %q) = %q, want %q", tc.text, tc.overrides, got, tc.want)
		}
	}
}

func TestToPinyinErrors(t *testing.T) {
	tests := []struct{ text, overrides, want string }{
		{"您好abc", "", `'a'`},
		{"您好", "您=nin2 hao3", "1 characters but 2 syllables"},
		{"您好", "再=zai4", "does not occur"},
		{"您好", "您=nin", "not a tone-numbered syllable"},
		{"您好", "您", "want 词=ci2"},
	}
	for _, tc := range tests {
		_, err := toPinyin(tc.text, tc.overrides)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("toPinyin(%q, %q) = %v, want error containing %q", tc.text, tc.overrides, err, tc.want)
		}
	}
}

func TestNumberHan(t *testing.T) {
	tests := map[string]string{
		"0": "零", "7": "七", "10": "十", "12": "十二", "20": "二十", "24": "二十四",
		"100": "一百", "105": "一百零五", "110": "一百一十", "1010": "一千零一十",
		"2000": "二千", "010": "零一零", "12345": "一二三四五",
	}
	for in, want := range tests {
		if got := numberHan(in); got != want {
			t.Errorf("numberHan(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestShippedTextConverts makes sure every zh-CN line can be spoken: no
// character without a reading, every override valid.
func TestShippedTextConverts(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "zh-CN", textfile.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, vars, err := textfile.ParseFile(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		py, err := toPinyin(textfile.Fill(e.Text, vars), e.Pinyin)
		if err != nil {
			t.Errorf("%s (line %d): %v", e.ID, e.Line, err)
			continue
		}
		for s := range strings.FieldsSeq(py) {
			s = strings.TrimRight(s, ",.")
			if !reSyllable.MatchString(s) {
				t.Errorf("%s: syllable %q in %q", e.ID, s, py)
			}
		}
	}
}
