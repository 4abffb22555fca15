package softphone

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestAgentCaller reads the caller's identity from offers as kefu and
// PBXs write them.
func TestAgentCaller(t *testing.T) {
	a := &agent{cfg: AgentConfig{QueueHeader: DefaultQueueHeader}}
	for _, tc := range []struct {
		name string
		from string
		hdrs map[string]string
		want AgentCall
	}{
		{"From only", `"客户" <sip:13800138000@pbx>`, nil,
			AgentCall{From: "13800138000", Display: "客户", Wait: -1}},
		{"kefu's offer", `"customers 13800138000" <sip:13800138000@kefu>`, map[string]string{
			"P-Asserted-Identity": "<sip:13800138000@kefu>", "X-Kefu-Queue": "customers", "X-Kefu-Wait": "95",
			"Diversion": "<sip:4008@kefu>;reason=unconditional"},
			AgentCall{From: "13800138000", Display: "customers 13800138000", Queue: "customers", Called: "4008", Wait: 95 * time.Second}},
		{"anonymous, tel: PAI, History-Info", `"Anonymous" <sip:anonymous@anonymous.invalid>`, map[string]string{
			"P-Asserted-Identity": `"Li" <tel:+8613912345678;phone-context=cn>`, "History-Info": "<sip:4008@pbx>;index=1, <sip:8001@kefu>;index=1.1"},
			AgentCall{From: "+8613912345678", Display: "Anonymous", Called: "4008", Wait: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "8001", Host: "127.0.0.1"})
			var from sip.FromHeader
			from.Params = sip.NewParams()
			display, err := sip.ParseAddressValue(tc.from, &from.Address, &from.Params)
			if err != nil {
				t.Fatal(err)
			}
			from.DisplayName = display
			req.AppendHeader(&from)
			for k, v := range tc.hdrs {
				req.AppendHeader(sip.NewHeader(k, v))
			}
			var got AgentCall
			a.caller(req, &got)
			if got.From != tc.want.From || got.Display != tc.want.Display || got.Queue != tc.want.Queue ||
				got.Called != tc.want.Called || got.Wait != tc.want.Wait {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestFileSafe(t *testing.T) {
	if got := fileSafe("a1/b@c:d e.f-g_h"); got != "a1_b@c_d_e.f-g_h" {
		t.Errorf("fileSafe = %q", got)
	}
}
