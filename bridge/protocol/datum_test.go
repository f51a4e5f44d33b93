package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestDatumJSON(t *testing.T) {
	tests := []struct {
		name string
		d    Datum
		want string
	}{
		{"null", NullDatum(), `null`},
		{"utf8", BytesDatum([]byte("1 (FLAGS (\\Seen))")), `"1 (FLAGS (\\Seen))"`},
		{"empty", BytesDatum([]byte{}), `""`},
		{"binary", BytesDatum([]byte{0xff, 0x00}), `{"base64":"/wA="}`},
		{"nul is valid UTF-8", BytesDatum([]byte{'a', 0}), `"a\u0000"`},
		{"pair", PairDatum([]byte("1 (BODY[] {2}"), []byte("hi")), `["1 (BODY[] {2}","hi"]`},
		{"pair binary literal", PairDatum([]byte("h"), []byte{0xc0, 0xaf}), `["h",{"base64":"wK8="}]`},
		{"html escaped", BytesDatum([]byte("<b>&")), `"\u003cb\u003e\u0026"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			var back Datum
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			if back.Kind != tt.d.Kind || !bytes.Equal(back.Data, tt.d.Data) || !bytes.Equal(back.Literal, tt.d.Literal) {
				t.Errorf("round trip %+v, want %+v", back, tt.d)
			}
		})
	}
}

func TestDatumUnmarshalRefuses(t *testing.T) {
	for _, in := range []string{`1`, `true`, `[]`, `["a"]`, `["a","b","c"]`, `["a",null]`, `[["a"],"b"]`, `{"base64":"%%"}`, `{}`, `{"b":"x"}`} {
		var d Datum
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("%s accepted as %+v", in, d)
		}
	}
}

func TestArgJSON(t *testing.T) {
	tests := []struct {
		in, want string
		null     bool
	}{
		{`"ALL"`, `"ALL"`, false},
		{`null`, `null`, true},
		{`{"base64":"aGk="}`, `{"base64":"aGk="}`, false},
		{`{"base64":""}`, `{"base64":""}`, false},
	}
	for _, tt := range tests {
		var a Arg
		if err := json.Unmarshal([]byte(tt.in), &a); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if a.IsNull() != tt.null {
			t.Errorf("%s: IsNull %v", tt.in, a.IsNull())
		}
		got, err := json.Marshal(a)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: re-encoded %s (%v), want %s", tt.in, got, err, tt.want)
		}
	}
	if got, _ := json.Marshal(StringArg("x")); string(got) != `"x"` {
		t.Errorf("StringArg: %s", got)
	}
	if got, _ := json.Marshal(BytesArg(nil)); string(got) != `{"base64":""}` {
		t.Errorf("BytesArg(nil): %s", got)
	}
}

func TestBytesJSON(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`"hi"`, "hi"},
		{`{"base64":"/wA="}`, "\xff\x00"},
		{`""`, ""},
	} {
		var b Bytes
		if err := json.Unmarshal([]byte(tt.in), &b); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if string(b) != tt.want || b == nil {
			t.Errorf("%s: got %q", tt.in, b)
		}
	}
	for _, in := range []string{`1`, `{"base64":1}`, `{"base64":"a"}`, `["a"]`} {
		var b Bytes
		err := json.Unmarshal([]byte(in), &b)
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Code != CodeBadRequest {
			t.Errorf("%s: err %v", in, err)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{1500 * time.Millisecond, "retry-after-ms=1500"},
		{0, "retry-after-ms=0"},
		{-time.Second, "retry-after-ms=0"},
	} {
		got := RetryAfterReason(tt.d)
		if got != tt.want {
			t.Errorf("RetryAfterReason(%v) = %q", tt.d, got)
		}
		back, ok := ParseRetryAfter(got)
		if !ok || back != max(tt.d, 0).Truncate(time.Millisecond) {
			t.Errorf("ParseRetryAfter(%q) = %v, %v", got, back, ok)
		}
	}
	for _, bad := range []string{"", "retry-after-ms=", "retry-after-ms=-1", "retry-after-ms=1x", "retry-after-ms=99999999999", "going away"} {
		if _, ok := ParseRetryAfter(bad); ok {
			t.Errorf("ParseRetryAfter(%q) accepted", bad)
		}
	}
}

func TestEventUnknownKind(t *testing.T) {
	if _, err := Encode(Event{Seq: 1, Event: "exploded"}); err == nil {
		t.Error("unknown event kind encoded")
	}
	if _, err := DecodeFrame([]byte(`{"type":"other"}`)); !errors.Is(err, ErrUnknownFrame) {
		t.Errorf("unknown frame: %v", err)
	}
	if _, err := DecodeFrame([]byte(`not json`)); err == nil {
		t.Error("garbage decoded")
	}
}

func TestFlagsEventEmpty(t *testing.T) {
	got, err := Encode(Event{Seq: 1, Event: EventFlags, Mailbox: "INBOX", UID: 1, SeqNum: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"event","seq":1,"event":"flags","mailbox":"INBOX","uid":1,"seqnum":1,"flags":[]}`
	if string(got) != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
