package pinyin

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
		// 一 and 不 in running text (CS-SPEECH): yí wèi, yì fēnzhōng, yì bǎi,
		// búyào, bù hǎo; 一 keeps yi1 in numbers, ordinals and before a
		// neutral tone, and at the end of a clause.
		{"一位,一分钟,一百位", "", "yi2 wei4, yi4 fen1 zhong1, yi4 bai3 wei4"},
		{"请您换一部电话,说一遍,稍等一会", "", "qing3 nin2 huan4 yi2 bu4 dian4 hua4, shuo1 yi2 bian4, shao1 deng3 yi2 hui4"},
		{"满意请按一,一般请按二", "", "man3 yi4 qing3 an4 yi1, yi4 ban1 qing3 an4 er4"},
		{"十一位,第一次,一二三,唯一的", "", "shi2 yi1 wei4, di4 yi1 ci4, yi1 er4 san1, wei2 yi1 de5"},
		{"一万", "", "yi2 wan4"},
		{"不要挂机,不满意,不好意思", "", "bu2 yao4 gua4 ji1, bu4 man3 yi4, bu4 hao3 yi4 si1"},
		// Numbers in digits: 一 before 百 and 千 changes, elsewhere not.
		{"100位,1100,11位,21", "", "yi4 bai3 wei4, yi4 qian1 yi4 bai3, shi2 yi1 wei4, er4 shi2 yi1"},
	}
	for _, tc := range tests {
		got, err := Convert(tc.text, tc.overrides)
		if err != nil {
			t.Errorf("Convert(%q, %q): %v", tc.text, tc.overrides, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Convert(%q, %q) = %q, want %q", tc.text, tc.overrides, got, tc.want)
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
		_, err := Convert(tc.text, tc.overrides)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Convert(%q, %q) = %v, want error containing %q", tc.text, tc.overrides, err, tc.want)
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
		if got := NumberHan(in); got != want {
			t.Errorf("NumberHan(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestShippedTextConverts makes sure every zh-CN line can be spoken: no
// character without a reading, every override valid.
func TestShippedTextConverts(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "zh-CN", textfile.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, vars, err := textfile.ParseFile(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		py, err := Convert(textfile.Fill(e.Text, vars), e.Pinyin)
		if err != nil {
			t.Errorf("%s (line %d): %v", e.ID, e.Line, err)
			continue
		}
		for s := range strings.FieldsSeq(py) {
			s = strings.TrimRight(s, ",.")
			if !Valid(s) {
				t.Errorf("%s: syllable %q in %q", e.ID, s, py)
			}
		}
	}
}
