package registrar

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/icholy/digest"
)

// The worked examples of RFC 7616 section 3.9.1 and RFC 2617 section 3.5:
// a server must compute the response the examples show.
func TestExpectedRFCVectors(t *testing.T) {
	rfc7616 := `username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", ` +
		`nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ` +
		`cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, ` +
		`opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`
	for _, tc := range []struct {
		name, header, realm, password, want string
	}{
		{"RFC 7616 SHA-256", `Digest ` + rfc7616 + `, algorithm=SHA-256, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"`,
			"http-auth@example.org", "Circle of Life", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
		{"RFC 7616 MD5", `Digest ` + rfc7616 + `, algorithm=MD5, response="8ca523f5e9506fed4657c9700eebdbec"`,
			"http-auth@example.org", "Circle of Life", "8ca523f5e9506fed4657c9700eebdbec"},
		{"RFC 2617 MD5 without algorithm", `Digest username="Mufasa", realm="testrealm@host.com", ` +
			`nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, ` +
			`cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
			"testrealm@host.com", "Circle Of Life", "6629fae49393a05397450978507c4ef1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok, err := digestParams(tc.header)
			if !ok || err != nil {
				t.Fatalf("digestParams: %v, %v", ok, err)
			}
			c, err := parseCredentials(p)
			if err != nil {
				t.Fatal(err)
			}
			got, usable := expected(c, tc.realm, Secret{Password: tc.password}, "GET")
			if got != tc.want || !usable {
				t.Errorf("response %s (usable %v), want %s", got, usable, tc.want)
			}
			// The same through an HA1 in place of the password, where MD5.
			if c.algorithm == MD5 {
				ha1 := md5.Sum([]byte("Mufasa:" + tc.realm + ":" + tc.password))
				if got, _ := expected(c, tc.realm, Secret{HA1: hex.EncodeToString(ha1[:])}, "GET"); got != tc.want {
					t.Errorf("with HA1: %s, want %s", got, tc.want)
				}
			}
		})
	}
}

// Responses made by an independent client implementation (icholy/digest,
// the one sipgo uses) verify, for every algorithm and both qop styles.
func TestExpectedMatchesClient(t *testing.T) {
	ha1 := md5.Sum([]byte("8001:kefu:s3cret"))
	for _, tc := range []struct {
		alg    string
		qop    []string
		secret Secret
		usable bool
	}{
		{"SHA-256", []string{"auth"}, Secret{Password: "s3cret"}, true},
		{"MD5", []string{"auth"}, Secret{Password: "s3cret"}, true},
		{"", nil, Secret{Password: "s3cret"}, true},    // RFC 2069: no algorithm, no qop
		{"MD5", nil, Secret{Password: "s3cret"}, true}, // no qop
		{"MD5", nil, Secret{HA1: hex.EncodeToString(ha1[:])}, true},
		{"MD5", []string{"auth"}, Secret{HA1: strings.ToUpper(hex.EncodeToString(ha1[:]))}, true},
		{"SHA-256", []string{"auth"}, Secret{HA1: hex.EncodeToString(ha1[:])}, false}, // an HA1 is MD5's
	} {
		chal := &digest.Challenge{Realm: "kefu", Nonce: "abc", Algorithm: tc.alg, QOP: tc.qop}
		cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:127.0.0.1", Username: "8001", Password: "s3cret", Count: 7})
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := digestParams(cred.String())
		if err != nil {
			t.Fatalf("%s: %v", cred, err)
		}
		c, err := parseCredentials(p)
		if err != nil {
			t.Fatalf("%s: %v", cred, err)
		}
		got, usable := expected(c, "kefu", tc.secret, "REGISTER")
		if ok := got == cred.Response && usable; ok != tc.usable {
			t.Errorf("%s %v secret %+v: verified %v, want %v", tc.alg, tc.qop, tc.secret, ok, tc.usable)
		}
	}
}

func TestDigestParams(t *testing.T) {
	for _, tc := range []struct {
		in     string
		digest bool
		err    bool
		want   map[string]string
	}{
		{`Digest username="a\"b", realm=kefu,nonce="x,y"`, true, false, map[string]string{"username": `a"b`, "realm": "kefu", "nonce": "x,y"}},
		{`digest  USERNAME = "u" ,  Realm="r"  `, true, false, map[string]string{"username": "u", "realm": "r"}},
		{`Basic dXNlcjpwYXNz`, false, false, nil},
		{`Digest username="u`, true, true, nil},
		{`Digest username="u" realm="r"`, true, true, nil},
		{`Digest username="u", username="v"`, true, true, nil},
		{`Digest username`, true, true, nil},
		{`Digest =x`, true, true, nil},
		{`Digest a=b c`, true, true, nil},
		{`Digest a=` + strings.Repeat("x", maxAuthLen), true, true, nil},
	} {
		got, digest, err := digestParams(tc.in)
		if digest != tc.digest || (err != nil) != tc.err {
			t.Errorf("%q: digest %v err %v", tc.in, digest, err)
			continue
		}
		if err != nil && !errors.Is(err, errMalformed) {
			t.Errorf("%q: %v does not wrap errMalformed", tc.in, err)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%q: %s = %q, want %q", tc.in, k, got[k], v)
			}
		}
	}
}

func TestParseCredentialsRefuses(t *testing.T) {
	const base = `username="u", realm="kefu", nonce="n", uri="sip:k"`
	md5resp, shaResp := strings.Repeat("a", 32), strings.Repeat("a", 64)
	for _, tc := range []struct{ name, in string }{
		{"no response", base},
		{"no username", `realm="kefu", nonce="n", uri="sip:k", response="` + md5resp + `"`},
		{"unknown algorithm", base + `, algorithm=SHA-512, response="` + shaResp + `", qop=auth, nc=00000001, cnonce="c"`},
		{"auth-int", base + `, response="` + md5resp + `", qop=auth-int, nc=00000001, cnonce="c"`},
		{"qop without nc", base + `, response="` + md5resp + `", qop=auth, cnonce="c"`},
		{"nc zero", base + `, response="` + md5resp + `", qop=auth, nc=00000000, cnonce="c"`},
		{"short nc", base + `, response="` + md5resp + `", qop=auth, nc=1, cnonce="c"`},
		{"qop without cnonce", base + `, response="` + md5resp + `", qop=auth, nc=00000001`},
		{"SHA-256 without qop", base + `, algorithm=SHA-256, response="` + shaResp + `"`},
		{"MD5-sess without qop", base + `, algorithm=MD5-sess, response="` + md5resp + `"`},
		{"short response", base + `, response="abc"`},
		{"SHA-256 length for MD5", base + `, response="` + shaResp + `"`},
		{"not hex", base + `, response="` + strings.Repeat("z", 32) + `"`},
		{"userhash", base + `, userhash=true, response="` + md5resp + `"`},
	} {
		p, _, err := digestParams("Digest " + tc.in)
		if err == nil {
			_, err = parseCredentials(p)
		}
		if !errors.Is(err, errMalformed) {
			t.Errorf("%s: err %v, want errMalformed", tc.name, err)
		}
	}
}

func TestChallengeParses(t *testing.T) {
	for _, alg := range []Algorithm{SHA256, MD5} {
		s := challenge(`k"e\fu`, "n0nce", alg, true)
		c, err := digest.ParseChallenge(s)
		if err != nil {
			t.Fatal(err)
		}
		if c.Realm != `k"e\fu` || c.Nonce != "n0nce" || c.Algorithm != string(alg) || !c.Stale || !c.SupportsQOP("auth") {
			t.Errorf("%s parsed as %+v", s, c)
		}
	}
}

// FuzzDigestParams: the Authorization parser never panics, and what it
// accepts re-parses the same after quoting.
func FuzzDigestParams(f *testing.F) {
	f.Add(`Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"`)
	f.Add(`Digest username="a\"b", realm=kefu,nonce="x,y"`)
	f.Add(`Digest ,,`)
	f.Add(`Digest a="\`)
	f.Fuzz(func(t *testing.T, s string) {
		p, ok, err := digestParams(s)
		if !ok || err != nil {
			return
		}
		var b strings.Builder
		b.WriteString("Digest ")
		i := 0
		for k, v := range p {
			if i > 0 {
				b.WriteString(", ")
			}
			i++
			b.WriteString(k + `="` + quote(v) + `"`)
		}
		q, ok, err := digestParams(b.String())
		if !ok || err != nil || len(q) != len(p) {
			t.Fatalf("%q re-quoted as %q: %v %v", s, b.String(), ok, err)
		}
		for k, v := range p {
			if q[k] != v {
				t.Fatalf("%q: %s %q became %q", s, k, v, q[k])
			}
		}
		_, _ = parseCredentials(p)
	})
}
