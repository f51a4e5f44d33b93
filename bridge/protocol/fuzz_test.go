package protocol

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecodeRequest checks that no input panics, that every refusal is a
// *ProtocolError, and that every accepted request re-encodes to JSON that
// decodes to the same request again (so the strict decoder and the
// encoder agree).
func FuzzDecodeRequest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "request_*.json"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"op":"select","op":"delete"}`, `{"OP":"delete"}`, `{"op":"noop","x":1}`,
		`{"op":"noop"}{"op":"delete"}`, strings.Repeat("[", 100), `{"id":"1","op":"select","mailbox":"INBOX","qresync":{"uidValidity":1e400,"modSeq":1}}`,
		"{\"id\":\"\xc0\xaf\",\"op\":\"noop\"}", `{"id":"1","op":"select","mailbox":"\ud800"}`,
		`{"id":"1","op":"imaplib","cmd":"uid","args":["fetch","1:*","(FLAGS)"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > DefaultMaxFrameBytes {
			return // the transport refuses larger frames
		}
		req, err := DecodeRequest(data, DefaultMaxDepth)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) || (pe.Code != CodeBadRequest && pe.Code != CodeForbidden) {
				t.Fatalf("error %v is not a bad_request/forbidden *ProtocolError", err)
			}
			if pe.ID != "" && !validID(pe.ID) {
				t.Fatalf("invalid id %q echoed", pe.ID)
			}
			return
		}
		out, err := Encode(req)
		if err != nil {
			t.Fatalf("accepted request does not encode: %v", err)
		}
		again, err := DecodeRequest(out, DefaultMaxDepth)
		if err != nil {
			t.Fatalf("re-encoded request refused: %v\n%s", err, out)
		}
		out2, err := Encode(again)
		if err != nil || string(out2) != string(out) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON out: %s", out)
		}
	})
}
