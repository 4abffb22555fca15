package registrar

import (
	"net/netip"
	"reflect"
	"testing"
)

// A phone registered through a proxy: the binding keeps the proxy's
// address (Source, where requests go) and the phone's own (Origin, which
// its calls must come from); failures count against the phone's address,
// not the proxy's that every phone shares. The origin survives the shared
// store's encoding.
func TestOriginThroughProxy(t *testing.T) {
	h := newHarness(t, Config{FailureLimit: 2})
	proxy := netip.MustParseAddrPort("10.0.0.2:5070")
	phone := netip.MustParseAddrPort("198.51.100.7:40000")
	req := reg("8001", "<sip:8001@198.51.100.7:40000>", proxy)
	req.Origin, req.OriginTransport = phone, "tcp"
	req.Path = []string{"<sip:10.0.0.2:5070;lr;received=sip:198.51.100.7:40000>"}
	if res, _ := h.login(req, "kefu-8001-secret"); res.Code != 200 {
		t.Fatalf("REGISTER through the proxy: %d %s", res.Code, res.Reason)
	}
	bs := h.r.Bindings("8001")
	if len(bs) != 1 {
		t.Fatalf("bindings %+v", bs)
	}
	b := bs[0]
	if b.Source != proxy || b.Origin != phone || b.OriginTransport != "TCP" {
		t.Errorf("binding source %v origin %v %s; want the proxy, and the phone over TCP", b.Source, b.Origin, b.OriginTransport)
	}
	for _, tc := range []struct {
		src, tr string
		want    bool
	}{
		{"198.51.100.7:40000", "TCP", true},
		{"198.51.100.7:40000", "tcp", true},
		{"[::ffff:198.51.100.7]:40000", "TCP", true},
		{"198.51.100.7:40000", "UDP", false},
		{"198.51.100.7:40001", "TCP", false},
		{"10.0.0.2:5070", "UDP", false}, // the proxy: anyone behind it
	} {
		if got := b.From(netip.MustParseAddrPort(tc.src), tc.tr); got != tc.want {
			t.Errorf("From(%s, %s) = %v, want %v", tc.src, tc.tr, got, tc.want)
		}
	}

	doc, err := encodeBindings(bs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeBindings(doc)
	if err != nil {
		t.Fatal(err)
	}
	if back[0].Origin != phone || back[0].OriginTransport != "TCP" {
		t.Errorf("stored and read back: origin %v %s", back[0].Origin, back[0].OriginTransport)
	}
	// A binding stored before the origin was kept: through a proxy it
	// matches no one; a direct one matches its source.
	old := back[0]
	old.Origin, old.OriginTransport = netip.AddrPort{}, ""
	if old.From(proxy, "UDP") {
		t.Error("an old binding through a proxy matched the proxy's address")
	}
	old.Path = nil
	if !old.From(proxy, "UDP") {
		t.Error("an old direct binding did not match its source")
	}

	// Wrong passwords through the proxy count against the phone.
	for range 2 {
		bad := reg("8001", "<sip:8001@198.51.100.7:40000>", proxy)
		bad.Origin = phone
		bad = answer(t, bad, h.r.Handle(bad), 0, "guess", 1)
		if res := h.r.Handle(bad); res.Code != 403 {
			t.Fatalf("wrong password: %d", res.Code)
		}
	}
	if want := []netip.Addr{phone.Addr()}; !reflect.DeepEqual(h.failures, want) {
		t.Errorf("failures reported %v, want %v", h.failures, want)
	}
}
