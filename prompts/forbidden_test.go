package prompts

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestShippedPromptsLint checks that no text of the default sets contains a
// forbidden phrase.
func TestShippedPromptsLint(t *testing.T) {
	for _, lang := range EmbeddedLangs() {
		c, err := LoadEmbedded(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range c.Lint(nil) {
			t.Error(err)
		}
	}
}

// textCatalog is a catalog of texts without recordings, for lint tests.
func textCatalog(lang string, texts map[string]string) *Catalog {
	c := &Catalog{lang: lang, prompts: map[string]*Prompt{}}
	for id, text := range texts {
		c.prompts[id] = &Prompt{ID: id, Lang: lang, Text: text}
		c.ids = append(c.ids, id)
	}
	slices.Sort(c.ids)
	return c
}

func TestFind(t *testing.T) {
	f := DefaultForbidden()
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"对不起,我不知道。", []string{"我不知道"}},
		{"喂,什么?你说什么?", []string{"^喂", "你说什么"}},
		{"喂,说话呀!再不说话我就挂机了!", []string{"^喂", "说话呀", "再不说话我就挂机了"}},
		{"您好，喂？", []string{"^喂"}},        // full-width punctuation
		{"嘿 您好", []string{"^嘿"}},         // after nothing, before a space
		{"我们喂养了一只猫", nil},                // 喂 inside a word
		{"你问我，我问谁", []string{"你问我,我问谁"}}, // any punctuation
		{"你问我我问谁", []string{"你问我,我问谁"}},  // or none
		{"你找客服部去", []string{"你找*去"}},     // a name in place of XX
		{"你找,去", nil},               // '*' needs a word
		{"您说什么时候方便?", nil},          // 您, not 你
		{"我这边听不清楚,请您大声一点,好吗?", nil}, // 不清楚 without 我
		{"Sorry, I don't know.", []string{"I don't know"}},
		{"I DON’T KNOW", []string{"I don't know"}}, // case, curly apostrophe
		{"Hey, what do you want?", []string{"^hey", "what do you want"}},
		{"They said hello.", nil},
		{"That is not my problem!", []string{"not my problem"}},
		{"Is there anything else I can help you with?", nil},
		{"上午好,卓达社区网中心很高兴为您服务", nil},
	} {
		if got := f.Find(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("Find(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestLint(t *testing.T) {
	c := textCatalog("zh-CN", map[string]string{
		"bad.1": "我不知道,你说什么?",
		"bad.2": "喂,说话呀",
		"good":  "非常抱歉,请您将刚才的问题重讲一遍,好吗?",
	})
	errs := c.Lint(nil)
	var got []string
	for _, err := range errs {
		var le *LintError
		if !errors.As(err, &le) || !errors.Is(err, ErrForbidden) {
			t.Fatalf("%v: not a *LintError wrapping ErrForbidden", err)
		}
		if !strings.Contains(err.Error(), "zh-CN/"+le.ID) || !strings.Contains(err.Error(), le.Phrase) {
			t.Errorf("%q does not name the prompt and the phrase", err)
		}
		got = append(got, le.ID+" "+le.Phrase)
	}
	want := []string{"bad.1 你说什么", "bad.1 我不知道", "bad.2 ^喂", "bad.2 说话呀"}
	if !slices.Equal(got, want) {
		t.Errorf("Lint: %q\nwant %q", got, want)
	}
	t.Log(errs[0])
}

// TestLoadForbidden adds an ops list to the defaults.
func TestLoadForbidden(t *testing.T) {
	f, err := LoadForbidden(strings.NewReader("# ops\n\n稍等片刻\n我不知道\n^hello\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != DefaultForbidden().Len()+2 {
		t.Errorf("Len() = %d, want the %d defaults + 2 new", f.Len(), DefaultForbidden().Len())
	}
	zh, err := LoadEmbedded("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	errs := zh.Lint(f)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "zh-CN/system.slow") {
		t.Errorf("Lint with 稍等片刻: %v", errs)
	}
	en, err := LoadEmbedded("en")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, err := range en.Lint(f) {
		ids = append(ids, err.(*LintError).ID)
	}
	if want := []string{"callback.greet", "followup.greet", "greet.default", "nuisance", "silent.alt.open"}; !slices.Equal(ids, want) {
		t.Errorf("Lint with ^hello: %v, want %v", ids, want)
	}

	for _, bad := range []string{"ok\n^\n", "*\n", "ok\n , \n"} {
		if _, err := ParseForbidden(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 2") && !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseForbidden(%q): %v, want an error naming the line", bad, err)
		}
	}
}

// TestDefaultForbiddenHasSpec checks that the default list has every
// phrase CS-FORBIDDEN names.
func TestDefaultForbiddenHasSpec(t *testing.T) {
	spec := []string{"^喂", "^嘿", "你说什么", "你到底在说什么", "你到底想怎么样", "你到底要不要",
		"不行就是不行,这是规定", "我就这样的态度", "你问我,我问谁", "我没办法", "有意见找领导去",
		"要告就告去", "用不起就别用", "你有什么了不起的", "你有没有搞错", "你烦不烦", "你怎么这么啰嗦",
		"我现在很忙", "你自己看着办吧", "不是我们的问题", "这不关我的事", "这不是我的错", "我不清楚",
		"我不知道", "你找*去", "这事不归我管", "你自己想办法吧", "你不是要查什么吗", "你到底想查什么",
		"你听不听我说", "你到底要不要听我说", "没这回事", "我查不到", "我没法查", "你自己先查清楚",
		"你看看是不是你那边出了什么问题"}
	have := DefaultForbidden().Phrases()
	for _, p := range spec {
		if !slices.Contains(have, p) {
			t.Errorf("default list lacks %q", p)
		}
	}
	// 还有其他问题吗 is forbidden only at a complaint's close, which the flow
	// lint judges by context: the general list lets it through.
	if got := DefaultForbidden().Find("请问还有其他问题吗?"); got != nil {
		t.Errorf("Find(还有其他问题吗) = %q: it is forbidden only at a complaint's close", got)
	}
	// The spec's own wording, as a caller would hear it.
	for _, text := range []string{"你不是要查什么吗?", "你到底要不要听我说!", "没这回事。", "对不起,我查不到。",
		"你看看是不是你那边出了什么问题?", "你找技术部去"} {
		if DefaultForbidden().Find(text) == nil {
			t.Errorf("Find(%q) = nil", text)
		}
	}
}
