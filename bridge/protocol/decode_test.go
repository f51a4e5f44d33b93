package protocol

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeRequestStrict(t *testing.T) {
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	tests := []struct {
		name   string
		in     string
		cause  error
		code   ErrorCode
		wantID string
	}{
		// security.md F11
		{"duplicate key", `{"id":"1","op":"select","op":"delete"}`, ErrDuplicateKey, CodeBadRequest, "1"},
		{"case-variant key", `{"id":"1","OP":"delete"}`, ErrKeyCase, CodeBadRequest, "1"},
		{"case-variant duplicate", `{"id":"1","op":"noop","Op":"delete"}`, ErrDuplicateKey, CodeBadRequest, "1"},
		{"unknown field", `{"id":"1","op":"noop","x":1}`, ErrUnknownField, CodeBadRequest, "1"},
		{"trailing object", `{"id":"1","op":"noop"}{"op":"delete"}`, ErrTrailingData, CodeBadRequest, "1"},
		{"trailing garbage", `{"id":"1","op":"noop"} x`, ErrTrailingData, CodeBadRequest, "1"},
		{"10000-level nesting", `{"id":"1","op":"imaplib","cmd":"noop","args":` + deep + `}`, ErrTooDeep, CodeBadRequest, "1"},
		{"1e400", `{"id":"1","op":"select","mailbox":"INBOX","qresync":{"uidValidity":1e400,"modSeq":1}}`, ErrNumber, CodeBadRequest, "1"},
		{"invalid UTF-8", "{\"id\":\"1\",\"op\":\"select\",\"mailbox\":\"\xc0\xaf\"}", ErrInvalidUTF8, CodeBadRequest, ""},
		// further strictness
		{"fraction", `{"id":"1","op":"select","mailbox":"INBOX","qresync":{"uidValidity":1.5,"modSeq":1}}`, ErrNumber, CodeBadRequest, "1"},
		{"uint32 overflow", `{"id":"1","op":"select","mailbox":"INBOX","qresync":{"uidValidity":4294967296,"modSeq":1}}`, ErrNumber, CodeBadRequest, "1"},
		{"uint64 overflow", `{"id":"1","op":"fetch","uids":"1","items":["uid"],"changedSince":18446744073709551616}`, ErrNumber, CodeBadRequest, "1"},
		{"negative", `{"id":"1","op":"fetch","uids":"1","items":["uid"],"changedSince":-1}`, ErrNumber, CodeBadRequest, "1"},
		{"lone high surrogate", `{"id":"1","op":"select","mailbox":"\ud800"}`, ErrInvalidUTF8, CodeBadRequest, ""},
		{"lone low surrogate", `{"id":"1","op":"select","mailbox":"a\udc00"}`, ErrInvalidUTF8, CodeBadRequest, ""},
		{"reversed surrogates", `{"id":"1","op":"select","mailbox":"\udc00\ud800"}`, ErrInvalidUTF8, CodeBadRequest, ""},
		{"non-ASCII key", `{"id":"1","op":"noop","ſ":1}`, ErrKeyCase, CodeBadRequest, "1"},
		{"kelvin key", "{\"id\":\"1\",\"op\":\"select\",\"mailbox\":\"INBOX\",\"qresync\":{\"uidValidity\":1,\"modSeq\":1,\"\u212anownUids\":\"1\"}}", ErrKeyCase, CodeBadRequest, "1"},
		{"nested case variant", `{"id":"1","op":"select","mailbox":"INBOX","qresync":{"UIDVALIDITY":1,"modSeq":1}}`, ErrKeyCase, CodeBadRequest, "1"},
		{"nested duplicate", `{"id":"1","op":"select","mailbox":"INBOX","qresync":{"uidValidity":1,"modSeq":1,"modSeq":2}}`, ErrDuplicateKey, CodeBadRequest, "1"},
		{"duplicate id not echoed", `{"id":"1","id":"2","op":"noop"}`, ErrDuplicateKey, CodeBadRequest, ""},
		{"array top level", `[{"id":"1","op":"noop"}]`, ErrNotObject, CodeBadRequest, ""},
		{"string top level", `"noop"`, ErrNotObject, CodeBadRequest, ""},
		{"empty", ``, ErrSyntax, CodeBadRequest, ""},
		{"truncated", `{"id":"1","op":"noop"`, ErrSyntax, CodeBadRequest, "1"},
		{"missing op", `{"id":"1"}`, ErrUnknownOp, CodeBadRequest, "1"},
		{"raw op (C4)", `{"id":"1","op":"raw","line":"A1 LOGOUT"}`, ErrUnknownOp, CodeBadRequest, "1"},
		{"op wrong type", `{"id":"1","op":5}`, ErrUnknownOp, CodeBadRequest, "1"},
		{"missing id", `{"op":"noop"}`, ErrInvalidField, CodeBadRequest, ""},
		{"empty id", `{"id":"","op":"noop"}`, ErrInvalidField, CodeBadRequest, ""},
		{"long id", `{"id":"` + strings.Repeat("x", 65) + `","op":"noop"}`, ErrInvalidField, CodeBadRequest, ""},
		{"id wrong type", `{"id":1,"op":"noop"}`, ErrFieldType, CodeBadRequest, ""},
		{"mailbox wrong type", `{"id":"1","op":"select","mailbox":["INBOX"]}`, ErrFieldType, CodeBadRequest, "1"},
		{"imaplib forbidden login", `{"id":"1","op":"imaplib","cmd":"login","args":["u","p"]}`, ErrForbiddenCommand, CodeForbidden, "1"},
		{"imaplib forbidden xatom", `{"id":"1","op":"imaplib","cmd":"xatom","args":["A1 LOGOUT"]}`, ErrForbiddenCommand, CodeForbidden, "1"},
		{"imaplib forbidden logout", `{"id":"1","op":"imaplib","cmd":"logout"}`, ErrForbiddenCommand, CodeForbidden, "1"},
		{"imaplib unknown", `{"id":"1","op":"imaplib","cmd":"_simple_command","args":["LOGOUT"]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"imaplib case", `{"id":"1","op":"imaplib","cmd":"FETCH","args":["1","(FLAGS)"]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"imaplib uid login", `{"id":"1","op":"imaplib","cmd":"uid","args":["logout"]}`, ErrForbiddenCommand, CodeForbidden, "1"},
		{"imaplib uid no args", `{"id":"1","op":"imaplib","cmd":"uid"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"imaplib bytes arg", `{"id":"1","op":"imaplib","cmd":"search","args":[null,{"base64":"QUxM"}]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"imaplib number arg", `{"id":"1","op":"imaplib","cmd":"fetch","args":[1,"(FLAGS)"]}`, ErrFieldType, CodeBadRequest, "1"},
		{"imaplib bool arg", `{"id":"1","op":"imaplib","cmd":"fetch","args":["1",true]}`, ErrFieldType, CodeBadRequest, "1"},
		{"imaplib bool as int", `{"id":"1","op":"imaplib","cmd":"partial","args":["1","BODY[]",true,"3"]}`, ErrFieldType, CodeBadRequest, "1"},
		{"imaplib negative int", `{"id":"1","op":"imaplib","cmd":"partial","args":["1","BODY[]",-1,3]}`, ErrNumber, CodeBadRequest, "1"},
		{"imaplib huge date", `{"id":"1","op":"imaplib","cmd":"append","args":["INBOX",null,253402300800,"x"]}`, ErrNumber, CodeBadRequest, "1"},
		{"imaplib float arg", `{"id":"1","op":"imaplib","cmd":"select","args":["INBOX",1.5]}`, ErrNumber, CodeBadRequest, "1"},
		{"imaplib array arg", `{"id":"1","op":"imaplib","cmd":"select","args":["INBOX",[true]]}`, ErrFieldType, CodeBadRequest, "1"},
		{"imaplib object arg", `{"id":"1","op":"imaplib","cmd":"select","args":["INBOX",{"x":true}]}`, ErrFieldType, CodeBadRequest, "1"},
		{"imaplib uid known not relayed", `{"id":"1","op":"imaplib","cmd":"uid","args":["LOGIN","a","b"]}`, ErrForbiddenCommand, CodeForbidden, "1"},
		{"imaplib bad base64", `{"id":"1","op":"imaplib","cmd":"append","args":["INBOX",null,null,{"base64":"!!"}]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"imaplib base64 extra key", `{"id":"1","op":"imaplib","cmd":"append","args":["INBOX",null,null,{"base64":"QQ==","x":1}]}`, ErrFieldType, CodeBadRequest, "1"},
		{"imaplib base64 case", `{"id":"1","op":"imaplib","cmd":"append","args":["INBOX",null,null,{"BASE64":"QQ=="}]}`, ErrKeyCase, CodeBadRequest, "1"},
		{"imaplib too many args", `{"id":"1","op":"imaplib","cmd":"search","args":[` + strings.Repeat(`"ALL",`, MaxArgs) + `"ALL"]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"select no mailbox", `{"id":"1","op":"select"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"select control char", `{"id":"1","op":"select","mailbox":"INBOX\r\nX1 LOGOUT"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"select DEL", `{"id":"1","op":"select","mailbox":"INBOX\u007f"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"rename to NUL", `{"id":"1","op":"rename","mailbox":"a","to":"b\u0000"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"copy to tab", `{"id":"1","op":"copy","uids":"1","to":"a\tb"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"list pattern CR", `{"id":"1","op":"list","pattern":"*\r"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"list ref LF", `{"id":"1","op":"list","ref":"\n"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"select qresync zero", `{"id":"1","op":"select","mailbox":"INBOX","qresync":{"uidValidity":0,"modSeq":1}}`, ErrInvalidField, CodeBadRequest, "1"},
		{"select qresync bad set", `{"id":"1","op":"select","mailbox":"INBOX","qresync":{"uidValidity":1,"modSeq":1,"knownUids":"1:x"}}`, ErrInvalidField, CodeBadRequest, "1"},
		{"list bad status item", `{"id":"1","op":"list","status":["SIZE"]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"status lower-case item", `{"id":"1","op":"status","mailbox":"INBOX","items":["messages"]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"fetch both sets", `{"id":"1","op":"fetch","uids":"1","seqs":"1","items":["uid"]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"fetch no set", `{"id":"1","op":"fetch","items":["uid"]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"fetch injected set", `{"id":"1","op":"fetch","uids":"1 ALL\r\nA9 DELETE INBOX","items":["uid"]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"fetch bad seqs", `{"id":"1","op":"fetch","seqs":"0","items":["uid"]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"fetch unknown item", `{"id":"1","op":"fetch","uids":"1","items":["rfc822"]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"fetch nothing", `{"id":"1","op":"fetch","uids":"1"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"fetch section CRLF", `{"id":"1","op":"fetch","uids":"1","body":[{"section":"TEXT]\r\nA1 LOGOUT"}]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"fetch partial zero", `{"id":"1","op":"fetch","uids":"1","body":[{"section":"","partial":{"offset":0,"length":0}}]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"fetch vanished alone", `{"id":"1","op":"fetch","uids":"1","items":["uid"],"vanished":true}`, ErrInvalidField, CodeBadRequest, "1"},
		{"search empty criterion", `{"id":"1","op":"search","criteria":[""]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"store bad mode", `{"id":"1","op":"store","uids":"1","mode":"toggle","flags":["\\Seen"]}`, ErrInvalidField, CodeBadRequest, "1"},
		{"store no flags", `{"id":"1","op":"store","uids":"1","mode":"add"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"copy no to", `{"id":"1","op":"copy","uids":"1"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"move no uids", `{"id":"1","op":"move","to":"Archive"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"expunge star-free", `{"id":"1","op":"expunge","uids":""}`, ErrInvalidField, CodeBadRequest, "1"},
		{"append no message", `{"id":"1","op":"append","mailbox":"Sent"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"append bad date", `{"id":"1","op":"append","mailbox":"Sent","date":"yesterday","message":"x"}`, ErrFieldType, CodeBadRequest, "1"},
		{"append empty base64 object", `{"id":"1","op":"append","mailbox":"Sent","message":{}}`, ErrInvalidField, CodeBadRequest, "1"},
		{"rename no to", `{"id":"1","op":"rename","mailbox":"a"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"auth no token", `{"id":"1","op":"auth"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"auth long token", `{"id":"1","op":"auth","token":"` + strings.Repeat("a", MaxTokenBytes+1) + `"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"login no password", `{"id":"1","op":"login"}`, ErrInvalidField, CodeBadRequest, "1"},
		{"noop with member of other op", `{"id":"1","op":"noop","mailbox":"INBOX"}`, ErrUnknownField, CodeBadRequest, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeRequest([]byte(tt.in), 32)
			if err == nil {
				t.Fatalf("accepted: %#v", req)
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ProtocolError", err)
			}
			if !errors.Is(err, tt.cause) {
				t.Errorf("error %v: want cause %v", err, tt.cause)
			}
			if pe.Code != tt.code {
				t.Errorf("code %q, want %q", pe.Code, tt.code)
			}
			if pe.ID != tt.wantID {
				t.Errorf("id %q, want %q", pe.ID, tt.wantID)
			}
			if !strings.HasPrefix(err.Error(), "protocol: ") {
				t.Errorf("message %q lacks the package prefix", err.Error())
			}
			if f := pe.Frame(); f.ID != pe.ID || f.Error.Code != pe.Code {
				t.Errorf("Frame() = %+v", f)
			}
		})
	}
}

func TestDecodeRequestAccepts(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, r Request)
	}{
		{"surrogate pair", `{"id":"1","op":"select","mailbox":"\ud83d\udce8 Inbox"}`, func(t *testing.T, r Request) {
			if got := r.(*SelectRequest).Mailbox; got != "📨 Inbox" {
				t.Errorf("mailbox %q", got)
			}
		}},
		{"escaped backslash before u", `{"id":"1","op":"select","mailbox":"a\\ud800"}`, func(t *testing.T, r Request) {
			if got := r.(*SelectRequest).Mailbox; got != `a\ud800` {
				t.Errorf("mailbox %q", got)
			}
		}},
		{"depth exactly 32", `{"id":"1","op":"imaplib","cmd":"noop","args":null}`, nil},
		{"whitespace around", " \n{\"id\":\"1\",\"op\":\"noop\"}\r\n ", nil},
		{"64-char id", `{"id":"` + strings.Repeat("é", 64) + `","op":"noop"}`, nil},
		{"append string message", `{"id":"1","op":"append","mailbox":"Sent","message":"Subject: x\r\n\r\nhi"}`, func(t *testing.T, r Request) {
			if got := string(r.(*AppendRequest).Message); got != "Subject: x\r\n\r\nhi" {
				t.Errorf("message %q", got)
			}
		}},
		{"move op", `{"id":"1","op":"move","uids":"1:*","to":"Trash"}`, func(t *testing.T, r Request) {
			if r.Op() != OpMove {
				t.Errorf("op %q", r.Op())
			}
		}},
		{"uid store relay", `{"id":"1","op":"imaplib","cmd":"uid","args":["STORE","1","+FLAGS","(\\Seen)"]}`, nil},
		{"max uint64", `{"id":"1","op":"fetch","uids":"1","items":["modseq"],"changedSince":18446744073709551615}`, nil},
		{"null member", `{"id":"1","op":"list","pattern":null}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeRequest([]byte(tt.in), 0)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if r.RequestID() == "" {
				t.Errorf("no id")
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestDecodeRequestDepthBound(t *testing.T) {
	// The object is level 1, "args" level 2, each further array one more.
	frame := func(arrays int) []byte {
		return []byte(`{"id":"1","op":"imaplib","cmd":"noop","args":` + strings.Repeat("[", arrays) + strings.Repeat("]", arrays) + `}`)
	}
	for _, tt := range []struct {
		depth, arrays int
		ok            bool
	}{
		{2, 1, true}, {2, 2, false}, {32, 31, true}, {32, 32, false},
	} {
		_, err := DecodeRequest(frame(tt.arrays), tt.depth)
		if tooDeep := errors.Is(err, ErrTooDeep); tooDeep == tt.ok {
			t.Errorf("depth %d, %d arrays: err %v", tt.depth, tt.arrays, err)
		}
	}
}

func TestKnownKeysUnique(t *testing.T) {
	// Every member name must have one spelling across all request types,
	// or the case check could not tell which is meant.
	seen := map[string]string{}
	for _, r := range requestTypes() {
		m := map[string]string{}
		collectKeys(typeOf(r), m, 0)
		for lower, name := range m {
			if prev, ok := seen[lower]; ok && prev != name {
				t.Errorf("member %q and %q differ only in case", prev, name)
			}
			seen[lower] = name
		}
	}
	for _, op := range Ops {
		if newRequest(op) == nil {
			t.Errorf("op %q has no request type", op)
		}
	}
}

// TestImaplibScalarArgs: JSON booleans and integers where imaplib takes a
// bool or an int decode with their values.
func TestImaplibScalarArgs(t *testing.T) {
	for _, tc := range []string{
		`{"id":"1","op":"imaplib","cmd":"select","args":["INBOX",true]}`,
		`{"id":"1","op":"imaplib","cmd":"select","args":["INBOX",0]}`,
		`{"id":"1","op":"imaplib","cmd":"examine","args":["INBOX",false]}`,
		`{"id":"1","op":"imaplib","cmd":"partial","args":[1,"BODY[]",0,4294967295]}`,
		`{"id":"1","op":"imaplib","cmd":"append","args":["INBOX",null,1700000000,"x"]}`,
		`{"id":"1","op":"imaplib","cmd":"uid","args":["BOGUS","1"]}`,
	} {
		req, err := DecodeRequest([]byte(tc), 0)
		if err != nil {
			t.Errorf("%s: %v", tc, err)
			continue
		}
		out, err := Encode(req)
		if err != nil || !strings.Contains(tc, string(out[strings.Index(string(out), `"args"`):len(out)-1])) {
			t.Errorf("%s: re-encoded as %s (%v)", tc, out, err)
		}
	}
	a := []Arg{BoolArg(true), BoolArg(false), IntArg(0), IntArg(2), StringArg(""), StringArg("false"), {}, BytesArg(nil)}
	want := []bool{true, false, false, true, false, true, false, false}
	for i, x := range a {
		if x.Truth() != want[i] {
			t.Errorf("Truth(%+v) = %v", x, x.Truth())
		}
	}
}
