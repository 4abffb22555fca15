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
