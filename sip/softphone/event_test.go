package softphone

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestEventJSON(t *testing.T) {
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{Kind: EvInvite}, `{"t":0.000,"ev":"invite"}`},
		{Event{T: 501234 * time.Microsecond, Kind: EvProvisional, Code: 180, Reason: "Ringing"},
			`{"t":0.501,"ev":"provisional","code":180,"reason":"Ringing"}`},
		{Event{T: 503 * ms, Kind: EvAnswered, Code: 200, Reason: "OK", Codec: "PCMA"},
			`{"t":0.503,"ev":"answered","code":200,"reason":"OK","codec":"PCMA"}`},
		{Event{T: 1500 * ms, Kind: EvAudioStart, LevelDB: -21.04}, `{"t":1.500,"ev":"audio_start","level_db":-21.0}`},
		{Event{T: 3 * time.Second, Kind: EvAudioEnd, LevelDB: math.Inf(-1), Dur: 1500 * ms},
			`{"t":3.000,"ev":"audio_end","level_db":-120.0,"dur":1.500}`},
		{Event{T: 4 * time.Second, Kind: EvPlayStart, File: "hello \"you\".wav"}, `{"t":4.000,"ev":"play_start","file":"hello \"you\".wav"}`},
		{Event{T: 5 * time.Second, Kind: EvByeSent}, `{"t":5.000,"ev":"bye_sent","code":0}`},
		{Event{T: 5 * time.Second, Kind: EvFinal, Error: "softphone: no answer"}, `{"t":5.000,"ev":"final","error":"softphone: no answer"}`},
		{Event{T: 500 * ms, Kind: EvFinal, Code: 486, Reason: "Busy Here", Error: "x"},
			`{"t":0.500,"ev":"final","code":486,"reason":"Busy Here","error":"x"}`},
		{Event{T: 9 * time.Second, Kind: EvDone, Dur: 8 * time.Second, Packets: 400, Lost: 2, Sent: 401},
			`{"t":9.000,"ev":"done","duration":8.000,"packets":400,"lost":2,"sent":401}`},
		{Event{T: 10 * ms, Kind: EvRegistered, Expires: 600 * time.Second}, `{"t":0.010,"ev":"registered","expires":600}`},
		{Event{T: 20 * ms, Kind: EvRegisterFailed, Code: 401, Reason: "Unauthorized", Error: "x"},
			`{"t":0.020,"ev":"register_failed","code":401,"reason":"Unauthorized","error":"x"}`},
		{Event{T: time.Second, Kind: EvOffered, Call: 2, CallID: "c@h", From: "13800138000", Display: "客户", Queue: "customers", Wait: -1},
			`{"t":1.000,"ev":"offered","call":2,"call_id":"c@h","from":"13800138000","display":"客户","queue":"customers","called":""}`},
		{Event{T: time.Second, Kind: EvOffered, Call: 1, CallID: "c", From: "1", Queue: "q", Called: "4008", Wait: 75 * time.Second},
			`{"t":1.000,"ev":"offered","call":1,"call_id":"c","from":"1","display":"","queue":"q","called":"4008","wait":75}`},
		{Event{T: time.Second, Kind: EvRejected, Call: 1, Code: 603, Reason: "Decline"},
			`{"t":1.000,"ev":"rejected","call":1,"code":603,"reason":"Decline"}`},
		{Event{T: time.Second, Kind: EvHold, Call: 1, Direction: "recvonly"}, `{"t":1.000,"ev":"hold","call":1,"direction":"recvonly"}`},
		{Event{T: time.Second, Kind: EvKey, Call: 1, Key: "5", Via: ViaRFC4733}, `{"t":1.000,"ev":"key","call":1,"key":"5","via":"rfc4733"}`},
		{Event{T: time.Second, Kind: EvKey, Key: "*", Via: ViaInfo, Code: 200}, `{"t":1.000,"ev":"key","key":"*","via":"info","code":200}`},
		{Event{T: 3 * time.Second, Kind: EvCallEnd, Call: 1, Dur: 2 * time.Second, Packets: 100, Sent: 99, File: "d/1-c.wav"},
			`{"t":3.000,"ev":"call_end","call":1,"duration":2.000,"packets":100,"lost":0,"sent":99,"recording":"d/1-c.wav"}`},
		{Event{T: 4 * time.Second, Kind: EvUnregistered, Code: 200}, `{"t":4.000,"ev":"unregistered","code":200}`},
		{Event{T: 4 * time.Second, Kind: EvDone, Dur: 4 * time.Second, Calls: 3, Answered: 2, agent: true},
			`{"t":4.000,"ev":"done","duration":4.000,"calls":3,"answered":2}`},
	} {
		b, err := json.Marshal(tc.e)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.e.Kind, b, tc.want)
		}
	}
}

func TestJSONLines(t *testing.T) {
	var buf bytes.Buffer
	sink := JSONLines(&buf)
	sink(Event{Kind: EvInvite})
	sink(Event{T: time.Second, Kind: EvByeReceived})
	want := "{\"t\":0.000,\"ev\":\"invite\"}\n{\"t\":1.000,\"ev\":\"bye_received\"}\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}
