package textfile

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := "\uFEFF# comment\n\nhello\t您好\r\nbye\t再见!\t再见=zai4 jian4\n  \nnum.10\tten\t\n"
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{ID: "hello", Text: "您好", Line: 3},
		{ID: "bye", Text: "再见!", Pinyin: "再见=zai4 jian4", Line: 4},
		{ID: "num.10", Text: "ten", Line: 6},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hello\n", "line 1:"},
		{"a\tb\tc\td\n", "line 1:"},
		{"# x\nHello\thi\n", "line 2:"},
		{"ok\thi\nok\tagain\n", `line 2: syntax error: prompt "ok" already defined on line 1`},
		{"ok\t  \n", "has no text"},
		{".dot\thi\n", "not allowed"},
		{"a/b\thi\n", "not allowed"},
		{"\thi\n", "empty prompt id"},
	}
	for _, tc := range tests {
		_, err := Parse(strings.NewReader(tc.in))
		if err == nil || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tc.in, err, tc.want)
		}
	}
}
