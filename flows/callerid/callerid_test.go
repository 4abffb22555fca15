package callerid

import "testing"

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"13812345678", "13812345678"},
		{"+8613812345678", "13812345678"},
		{"008613812345678", "13812345678"},
		{"8613812345678", "13812345678"},
		{"013812345678", "13812345678"},
		{"+86 138-1234-5678", "13812345678"},
		{"01012345678", "01012345678"},        // Beijing landline
		{"+861012345678", "01012345678"},      // the same, international
		{"00861012345678", "01012345678"},     // and with 00
		{"+86 (21) 6123 4567", "02161234567"}, // Shanghai
		{"95588", "95588"},                    // service number
		{"+14155550123", "+14155550123"},
		{"0014155550123", "+14155550123"},
		{"anonymous", "anonymous"},
		{"alice", "alice"},
		{"", ""},
		{"+", "+"},
		{"+86", "+86"},
		{"+8600", "+8600"},
		{"+86013812345678", "13812345678"},
	} {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNormalizeIdempotent(t *testing.T) {
	for _, in := range []string{"+8613812345678", "0086 10 1234 5678", "0014155550123", "013812345678", "95588"} {
		once := Normalize(in)
		if twice := Normalize(once); twice != once {
			t.Errorf("Normalize(Normalize(%q)) = %q, want %q", in, twice, once)
		}
	}
}

func TestMask(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"13812345678", "138******78"},
		{"95588", "*****"},
		{"123456", "123*56"},
		{"", ""},
		{"张三李四王五", "张三李*王五"},
	} {
		if got := Mask(c.in); got != c.want {
			t.Errorf("Mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+8613812345678", "0086", "861", "alice", "+", "00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Normalize(s)
		if Normalize(once) != once {
			t.Errorf("not idempotent: %q → %q → %q", s, once, Normalize(once))
		}
	})
}

func TestNormalizePrefix(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"+86400", "0400"},
		{"0086400", "0400"},
		{"+86139", "139"},
		{"+86010", "010"},
		{"400", "400"},
		{"00852", "+852"},
		{"+852", "+852"},
		{"+86", ""},
	} {
		if got := NormalizePrefix(c.in); got != c.want {
			t.Errorf("NormalizePrefix(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
