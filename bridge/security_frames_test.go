package bridge

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// TestSecurityStrictFrames covers F11, C4, D6 and G10: each malformed or
// over-reaching frame gets an error frame, the connection stays open (it
// answers a noop afterwards), and the IMAP server sees no command from it.
func TestSecurityStrictFrames(t *testing.T) {
	e := newSecEnv(t, secFake(), func(c *Config) {
		c.Limits.FramesPerSecond = 1000 // the frame limiter is TestSecurityFlood's
		c.Limits.FrameBurst = 1000
	})
	c := e.session()
	before := len(e.imap.Commands())
	cases := []struct {
		name  string
		frame string
		id    string // the request id; the error frame carries it or none
		code  protocol.ErrorCode
	}{
		{"duplicate op", `{"id":"f1","op":"select","op":"delete"}`, "f1", protocol.CodeBadRequest},
		{"case variant key", `{"id":"f2","OP":"delete"}`, "f2", protocol.CodeBadRequest},
		{"unknown field", `{"id":"f3","op":"noop","x":1}`, "f3", protocol.CodeBadRequest},
		{"trailing object", `{"id":"f4","op":"noop"}{"op":"delete"}`, "f4", protocol.CodeBadRequest},
		{"deep nesting", `{"id":"f5","op":"imaplib","cmd":"noop","args":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`, "f5", protocol.CodeBadRequest},
		{"huge number", `{"id":"f6","op":"fetch","uids":"1","items":["uid"],"changedSince":1e400}`, "f6", protocol.CodeBadRequest},
		{"unpaired surrogate", `{"id":"f7","op":"select","mailbox":"\ud800"}`, "f7", protocol.CodeBadRequest},
		{"not an object", `["noop"]`, "", protocol.CodeBadRequest},
		{"raw op (C4)", `{"id":"c1","op":"raw","line":"A1 LOGOUT"}`, "c1", protocol.CodeBadRequest},
		{"relay CRLF in search (C4)", `{"id":"c2","op":"imaplib","cmd":"search","args":[null,"ALL\r\nA9 DELETE INBOX"]}`, "c2", protocol.CodeBadRequest},
		{"relay NUL in search (C4)", `{"id":"c3","op":"imaplib","cmd":"search","args":[null,"TEXT a\u0000b"]}`, "c3", protocol.CodeBadRequest},
		{"relay CRLF in fetch items (C4)", `{"id":"c4","op":"imaplib","cmd":"fetch","args":["1","(FLAGS)\r\nA9 LOGOUT"]}`, "c4", protocol.CodeBadRequest},
		{"relay literal marker (C2)", `{"id":"c5","op":"imaplib","cmd":"search","args":[null,"TEXT {12}"]}`, "c5", protocol.CodeBadRequest},
		{"typed search CRLF (C4)", `{"id":"c6","op":"search","criteria":["ALL\r\nA9 DELETE INBOX"]}`, "c6", protocol.CodeBadRequest},
		{"uid set injection", `{"id":"c7","op":"fetch","uids":"1 ALL\r\nX","items":["uid"]}`, "c7", protocol.CodeBadRequest},
		{"relay login (never relayed)", `{"id":"c8","op":"imaplib","cmd":"login","args":["bob","pw"]}`, "c8", protocol.CodeForbidden},
		{"relay authenticate", `{"id":"c9","op":"imaplib","cmd":"authenticate","args":["PLAIN"]}`, "c9", protocol.CodeForbidden},
		{"relay proxyauth", `{"id":"c10","op":"imaplib","cmd":"proxyauth","args":["bob"]}`, "c10", protocol.CodeForbidden},
		{"relay xatom", `{"id":"c11","op":"imaplib","cmd":"xatom","args":["DELETE","INBOX"]}`, "c11", protocol.CodeForbidden},
		{"uid with a non-uid command", `{"id":"c12","op":"imaplib","cmd":"uid","args":["delete","INBOX"]}`, "c12", protocol.CodeForbidden},
		{"login as (D6)", `{"id":"d1","op":"login","password":"x","as":"bob"}`, "d1", protocol.CodeBadRequest},
		{"account (D6)", `{"id":"d2","op":"noop","account":"bob"}`, "d2", protocol.CodeBadRequest},
		{"authzid (D6)", `{"id":"d3","op":"login","password":"x","authzid":"bob"}`, "d3", protocol.CodeBadRequest},
		{"login user (D6)", `{"id":"d4","op":"login","password":"x","user":"bob"}`, "d4", protocol.CodeBadRequest},
		{"host (G10)", `{"id":"g1","op":"select","mailbox":"INBOX","host":"imap.attacker.test"}`, "g1", protocol.CodeBadRequest},
		{"upstream (G10)", `{"id":"g2","op":"noop","upstream":"other"}`, "g2", protocol.CodeBadRequest},
		{"session (G10)", `{"id":"g3","op":"noop","session":"1-abc"}`, "g3", protocol.CodeBadRequest},
		{"re-auth as another user (G10)", `{"id":"g4","op":"auth","token":"x.y.z"}`, "g4", protocol.CodeBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.send(tc.frame)
			c.send(`{"id":"probe","op":"noop"}`)
			var ef *protocol.ErrorFrame
			ctx, cancel := context.WithTimeout(context.Background(), secWait)
			defer cancel()
			for done := false; !done; {
				f, _, err := c.next(ctx)
				if err != nil {
					t.Fatalf("connection lost: %v", err)
				}
				switch v := f.(type) {
				case *protocol.ErrorFrame:
					if v.ID == tc.id || v.ID == "" {
						ef = v
					}
				case *protocol.ImaplibResponse:
					if v.ID == tc.id {
						t.Fatalf("relayed: %s %v", v.Typ, v.Data)
					}
				case *protocol.Response:
					if v.ID == tc.id {
						t.Fatal("answered with a response")
					}
					done = v.ID == "probe"
				}
			}
			if ef == nil {
				t.Fatal("no error frame")
			}
			if ef.Error.Code != tc.code {
				t.Errorf("code %q, want %q (%s)", ef.Error.Code, tc.code, ef.Error.Message)
			}
		})
	}
	// The connection is still usable, and nothing but the probes' NOOPs
	// reached the IMAP server.
	c.send(`{"id":"last","op":"noop"}`)
	if code := c.awaitError("last"); code != "" {
		t.Fatalf("noop after the bad frames: %s", code)
	}
	for _, cmd := range e.imap.Commands()[before:] {
		if cmd.Name != "NOOP" {
			t.Errorf("the IMAP server saw %q", cmd.Line)
		}
	}
}

// TestSecurityMasterAuthzid covers D6: in master mode the authorization
// identity is the token's IMAP user, from the bridge side only; login frames
// are refused.
func TestSecurityMasterAuthzid(t *testing.T) {
	fake := secFake()
	fake.Capabilities = "AUTH=PLAIN"
	fake.Handlers["AUTHENTICATE"] = imaptest.AuthPlainHandler()
	e := newSecEnv(t, fake, func(c *Config) {
		c.Upstreams[0].MasterUser = "master"
		c.Upstreams[0].MasterPassword = "M4ster-Secret-Pw"
	})
	c := e.mustDial(e.token(func(c *auth.Claims) { c.Credential = auth.CredentialMaster }))
	c.hello()
	c.send(`{"id":"l","op":"login","password":"x"}`)
	if code := c.awaitError("l"); code != protocol.CodeForbidden {
		t.Errorf("login in master mode: %q", code)
	}
	line, _ := e.imap.Value(imaptest.KeyResponse).([]byte)
	args, _ := e.imap.Value(imaptest.KeyAuthArgs).([]string)
	blob := strings.TrimSpace(string(line))
	if len(args) > 1 {
		blob = args[1] // SASL-IR
	}
	dec, err := base64.StdEncoding.DecodeString(blob)
	if err != nil {
		t.Fatalf("AUTHENTICATE payload %q: %v", blob, err)
	}
	if want := secUser + "\x00master\x00M4ster-Secret-Pw"; string(dec) != want {
		t.Errorf("PLAIN blob %q, want authzid %q", dec, secUser)
	}
	for _, cmd := range e.imap.Commands() {
		if cmd.Name == "LOGIN" {
			t.Errorf("LOGIN sent in master mode: %q", cmd.Line)
		}
	}
}
