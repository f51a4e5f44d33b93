package imapengine

// Authentication tests: /work/shared/spec/security.md section D (D1–D4,
// engine parts).

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// secRecordAuth is an AUTHENTICATE handler that records the arguments and,
// without an initial response, one continuation reply; it answers OK.
func secRecordAuth(c *imaptest.Conn, cmd *imaptest.Command) {
	c.Server().SetValue(imaptest.KeyAuthArgs, append([]string{}, cmd.Args...))
	if len(cmd.Args) < 2 {
		c.Send("+ ")
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		c.Server().SetValue(imaptest.KeyResponse, line)
	}
	c.Tagged(cmd, "OK AUTHENTICATE completed")
}

// secDialAuth connects to a server advertising caps with handler for
// AUTHENTICATE.
func secDialAuth(t *testing.T, caps string, h imaptest.HandlerFunc, o *Options) (*imaptest.Server, *Client) {
	t.Helper()
	srv := imaptest.NewServer(t, imaptest.Config{Capabilities: caps, Handlers: map[string]imaptest.HandlerFunc{"AUTHENTICATE": h}})
	if o == nil {
		o = secOpts()
	}
	c, err := Dial(context.Background(), srv.Addr(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown() })
	return srv, c
}

// TestSecurity_D1_SASLSeparatorInjection: separators inside credentials are
// refused (NUL in PLAIN, ^A in the OAuth mechanisms) and the OAUTHBEARER
// authzid escapes ',' and '=' so the decoded blob has exactly its fields.
func TestSecurity_D1_SASLSeparatorInjection(t *testing.T) {
	refused := []struct {
		name string
		m    SASL
	}{
		{"PLAIN user NUL", PlainAuth("", "a\x00b", "pass")},
		{"PLAIN authzid NUL", PlainAuth("x\x00y", "user", "pass")},
		{"PLAIN password NUL", PlainAuth("", "user", "p\x00ss")},
		{"XOAUTH2 user ^A", XOAuth2("u\x01auth=Bearer x", "tok")},
		{"XOAUTH2 token ^A", XOAuth2("u", "tok\x01\x01")},
		{"OAUTHBEARER user ^A", OAuthBearer("u\x01auth=Bearer x", "tok", "", 0)},
		{"OAUTHBEARER host ^A", OAuthBearer("u", "tok", "h\x01auth=Bearer x", 0)},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := secDialAuth(t, "SASL-IR", secRecordAuth, nil)
			_, err := c.AuthenticateSASL(context.Background(), tt.m)
			if !errors.Is(err, ErrBadArgument) {
				t.Fatalf("err = %v, want ErrBadArgument", err)
			}
			if got := secCreds(srv); len(got) != 0 {
				t.Fatalf("sent %q", got)
			}
		})
	}

	escaped := []struct {
		name, user, want string
	}{
		{"comma and equals", "a,b=c", "n,a=a=2Cb=3Dc,\x01auth=Bearer tok\x01\x01"},
		{"forged GS2 field", "u,a=admin", "n,a=u=2Ca=3Dadmin,\x01auth=Bearer tok\x01\x01"},
	}
	for _, tt := range escaped {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := secDialAuth(t, "SASL-IR", secRecordAuth, nil)
			if _, err := c.AuthenticateSASL(context.Background(), OAuthBearer(tt.user, "tok", "", 0)); err != nil {
				t.Fatal(err)
			}
			args, _ := srv.Value(imaptest.KeyAuthArgs).([]string)
			if len(args) != 2 || args[0] != "OAUTHBEARER" {
				t.Fatalf("AUTHENTICATE args %q", args)
			}
			blob, err := base64.StdEncoding.DecodeString(args[1])
			if err != nil || string(blob) != tt.want {
				t.Fatalf("blob %q (%v), want %q", blob, err, tt.want)
			}
		})
	}
}

// secOAuthError is the RFC 7628 error challenge of curl's test 845.
const secOAuthError = "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIn0="

// TestSecurity_D2_OAuthFailureContinuation: the server's error challenge is
// answered with the dummy response (AQ== for OAUTHBEARER, an empty line for
// XOAUTH2), the NO ends the exchange, and the error carries
// *AuthError{Status: "invalid_token"}.
func TestSecurity_D2_OAuthFailureContinuation(t *testing.T) {
	tests := []struct {
		name  string
		m     SASL
		reply string
	}{
		{"OAUTHBEARER", OAuthBearer("user", "tok", "imap.example.com", 993), "AQ==\r\n"},
		{"XOAUTH2", XOAuth2("user", "tok"), "\r\n"},
	}
	for _, tt := range tests {
		for _, ir := range []bool{true, false} {
			caps := ""
			name := tt.name
			if ir {
				caps, name = "SASL-IR", name+"/SASL-IR"
			}
			t.Run(name, func(t *testing.T) {
				srv, c := secDialAuth(t, caps, func(sc *imaptest.Conn, cmd *imaptest.Command) {
					if len(cmd.Args) < 2 { // no initial response: ask for it
						sc.Send("+ ")
						if _, err := sc.ReadLine(); err != nil {
							return
						}
					}
					sc.Send("+ " + secOAuthError)
					line, err := sc.ReadLine()
					if err != nil {
						return
					}
					sc.Server().SetValue(imaptest.KeyResponse, line)
					sc.Tagged(cmd, "NO [AUTHENTICATIONFAILED] invalid token")
				}, nil)
				_, err := c.AuthenticateSASL(context.Background(), tt.m)
				var ae *AuthError
				if !errors.As(err, &ae) || ae.Status != "invalid_token" {
					t.Fatalf("err = %v, want *AuthError{invalid_token}", err)
				}
				var se *StatusError
				if !errors.As(err, &se) || se.Code != "AUTHENTICATIONFAILED" {
					t.Fatalf("err = %v, want the server's NO underneath", err)
				}
				if got, _ := srv.Value(imaptest.KeyResponse).([]byte); string(got) != tt.reply {
					t.Fatalf("dummy response %q, want %q", got, tt.reply)
				}
			})
		}
	}
}

// TestSecurity_D3_EndlessContinuations: past Limits.MaxAuthRounds, and for a
// challenge above Limits.MaxAuthChallenge, the client answers "*" and the
// exchange ends with an error.
func TestSecurity_D3_EndlessContinuations(t *testing.T) {
	const rounds = 3
	big := "+ " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 100<<10))
	tests := []struct {
		name      string
		challenge string
		wantLines int // client lines before (and including) "*"
	}{
		{"endless empty challenges", "+ ", rounds + 1},
		{"oversized challenge", big, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := secOpts()
			o.Limits.MaxAuthRounds = rounds
			srv, c := secDialAuth(t, "", func(sc *imaptest.Conn, cmd *imaptest.Command) {
				n := 0
				for n < 50 {
					sc.Send(tt.challenge)
					line, err := sc.ReadLine()
					if err != nil {
						return
					}
					n++
					if string(line) == "*\r\n" {
						sc.Server().SetValue("lines", n)
						sc.Tagged(cmd, "BAD AUTHENTICATE cancelled")
						return
					}
				}
				sc.Tagged(cmd, "NO too many rounds")
			}, o)
			_, err := c.Authenticate(context.Background(), "XFAKE", func([]byte) ([]byte, error) { return []byte("r"), nil })
			if err == nil {
				t.Fatal("endless exchange succeeded")
			}
			if n, _ := srv.Value("lines").(int); n != tt.wantLines {
				t.Fatalf("client answered %d lines before '*', want %d", n, tt.wantLines)
			}
		})
	}
}

// Secrets of the redaction test.
const (
	secPassword = "s3cr3t-Pa55"
	secToken    = "ya29.SECRET-token-XYZ"
)

// TestSecurity_D4_LogRedaction runs every credential path with full tracing
// (Debug 5, a JSON slog handler) and checks that neither the log nor the
// returned errors contain a secret or its base64 form, while the command
// verbs stay visible.
func TestSecurity_D4_LogRedaction(t *testing.T) {
	plainBlob := base64.StdEncoding.EncodeToString([]byte("\x00user\x00" + secPassword))
	xoauth := base64.StdEncoding.EncodeToString([]byte("user=user\x01auth=Bearer " + secToken + "\x01\x01"))
	secrets := []string{secPassword, secToken, plainBlob, xoauth,
		base64.StdEncoding.EncodeToString([]byte(secPassword)), base64.StdEncoding.EncodeToString([]byte(secToken))}
	failLogin := func(sc *imaptest.Conn, cmd *imaptest.Command) { sc.Tagged(cmd, "NO [AUTHENTICATIONFAILED] bad") }
	tests := []struct {
		name    string
		caps    string
		login   imaptest.HandlerFunc // nil: the built-in LOGIN
		call    func(c *Client) error
		wantErr bool
		verb    string
	}{
		{"LOGIN quoted", "", nil, func(c *Client) error { return secErr(c.Login(context.Background(), "user", secPassword)) }, false, "LOGIN"},
		{"LOGIN literal", "", nil, func(c *Client) error {
			return secErr(c.Login(context.Background(), "user", "pässwörd-"+secPassword))
		}, false, "LOGIN"},
		{"LOGIN failing", "", failLogin, func(c *Client) error { return secErr(c.Login(context.Background(), "user", secPassword)) }, true, "LOGIN"},
		{"PLAIN SASL-IR", "SASL-IR", nil, func(c *Client) error {
			return secErr(c.AuthenticateSASL(context.Background(), PlainAuth("", "user", secPassword)))
		}, false, "AUTHENTICATE"},
		{"PLAIN continuation", "", nil, func(c *Client) error {
			return secErr(c.AuthenticateSASL(context.Background(), PlainAuth("", "user", secPassword)))
		}, false, "AUTHENTICATE"},
		{"LoginPlain", "", nil, func(c *Client) error { return secErr(c.LoginPlain(context.Background(), "user", secPassword)) }, false, "AUTHENTICATE"},
		{"XOAUTH2", "SASL-IR", nil, func(c *Client) error {
			return secErr(c.AuthenticateSASL(context.Background(), XOAuth2("user", secToken)))
		}, false, "AUTHENTICATE"},
		{"OAUTHBEARER", "", nil, func(c *Client) error {
			return secErr(c.AuthenticateSASL(context.Background(), OAuthBearer("user", secToken, "h", 993)))
		}, false, "AUTHENTICATE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := secOpts()
			o.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			o.Debug = 5
			handlers := map[string]imaptest.HandlerFunc{"AUTHENTICATE": secRecordAuth}
			if tt.login != nil {
				handlers["LOGIN"] = tt.login
			}
			srv := imaptest.NewServer(t, imaptest.Config{Capabilities: tt.caps, Handlers: handlers})
			c, err := Dial(context.Background(), srv.Addr(), o)
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(c)
			c.Shutdown()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			text := buf.String()
			if err != nil {
				text += "\n" + err.Error()
			}
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Fatalf("secret %q leaked:\n%s", s, text)
				}
			}
			if !strings.Contains(buf.String(), tt.verb) {
				t.Fatalf("verb %s not visible in the trace:\n%s", tt.verb, buf.String())
			}
			if len(secCreds(srv)) == 0 {
				t.Fatal("no credential command reached the server")
			}
		})
	}
}
