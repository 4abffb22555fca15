package prompts

import (
	"errors"
	"strings"
	"testing"
)

// TestShippedSpeech: every default prompt reads as decided (CS-SPEECH):
// no polyphone left to the dictionary, no {company} doubling a word.
func TestShippedSpeech(t *testing.T) {
	for _, lang := range EmbeddedLangs() {
		c, err := LoadEmbedded(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range c.CheckSpeech() {
			t.Error(err)
		}
	}
}

func TestCheckSpeech(t *testing.T) {
	zh := textCatalog("zh-CN", map[string]string{
		"menu.invalid": "对不起,您按的键无效,请重新选择。",
		"repeat":       "请您将刚才的问题重讲一遍。",
		"open":         "您好!这里是{company}客服中心。",
		"greet":        "{company}很高兴为您服务",
		"bad":          "请按#号键",
	})
	zh.vars = map[string]string{VarCompany: "卓达社区网中心"}
	zh.pinyin = map[string]string{
		"menu.invalid": "对不起=dui4 bu5 qi3",
		"repeat":       "重讲=chong2 jiang3;将=jiang1;的=de5",
		"open":         "您好=nin2 hao3",
		"greet":        "高兴=gao1 xing4;为您=wei4 nin2",
	}
	var got []string
	for _, err := range zh.CheckSpeech() {
		var se *SpeechError
		if !errors.Is(err, ErrSpeech) || !errors.As(err, &se) {
			t.Fatalf("%v: not a *SpeechError wrapping ErrSpeech", err)
		}
		got = append(got, err.Error())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		// 重新 is chóngxīn; the dictionary's first reading is zhòng.
		"zh-CN/menu.invalid: reads wrongly (CS-SPEECH): 重 in 「,请重新选」 would be read zhong4 (readings: zhong4, chong2",
		"e.g. 重新=zhong4 xin1",
		"zh-CN/menu.invalid: reads wrongly (CS-SPEECH): 的 in 「您按的键无」",
		"zh-CN/open: reads wrongly (CS-SPEECH): {company} (卓达社区网中心) and the text both say 中心",
		`zh-CN/bad: reads wrongly (CS-SPEECH): character '#'`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("CheckSpeech lacks %q:\n%s", want, all)
		}
	}
	for _, id := range []string{"repeat:", "greet:"} {
		if strings.Contains(all, id) {
			t.Errorf("%s has every reading decided, yet:\n%s", id, all)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d problems, want 4:\n%s", len(got), all)
	}

	en := textCatalog("en", map[string]string{
		"open":  "Hello! This is the {company} customer service center.",
		"greet": "Good morning, {company} is glad to serve you.",
		"ok":    "This is {company}. Our network is fine.", // another clause: not the name said twice
	})
	en.vars = map[string]string{VarCompany: "Zhuoda Community Network Center"}
	got = got[:0]
	for _, err := range en.CheckSpeech() {
		got = append(got, err.Error())
	}
	if len(got) != 1 || !strings.Contains(got[0], `en/open: reads wrongly (CS-SPEECH): {company} (Zhuoda Community Network Center) and the text both say "Center"`) {
		t.Errorf("en: %q", got)
	}
}
