package imapengine

import (
	"context"
	"crypto/fips140"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// AuthFunc is imaplib's authobject: it receives each server challenge,
// base64-decoded, and returns the response, which the client base64-encodes.
// Returning a non-nil error (ErrAuthAborted, for instance) sends "*" to abort
// the exchange, like imaplib's callback returning None.
type AuthFunc func(challenge []byte) ([]byte, error)

// cramMD5Supported reports whether HMAC-MD5 may be used (not in FIPS 140-only mode).
var cramMD5Supported = func() bool { return !fips140.Enabled() }

// checkPlaintextAuth refuses credentials on an unprotected TCP connection
// unless Options.AllowPlaintextAuth is set.
func (c *Client) checkPlaintextAuth() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tls || c.kind == kindStream || c.opts.AllowPlaintextAuth {
		return nil
	}
	return &Error{Kind: KindError, Msg: "refusing to send credentials over an unencrypted connection (use TLS or Options.AllowPlaintextAuth)", Err: ErrTLSRequired}
}

// Login identifies the client with a user name and a cleartext password
// (imaplib's login). The user name is quoted as needed; the password is always
// sent as a quoted string and never appears in traces. A NO raises an error
// carrying the server's text. Login is refused when the server advertises
// LOGINDISABLED.
func (c *Client) Login(ctx context.Context, user, password string) (Result, error) {
	if err := c.checkPlaintextAuth(); err != nil {
		return Result{}, err
	}
	if c.HasCapability("LOGINDISABLED") {
		return Result{}, &Error{Kind: KindError, Msg: "LOGIN disabled by server (LOGINDISABLED)", Err: ErrNotSupported}
	}
	typ, text, err := c.run(ctx, &cmd{name: "LOGIN", secret: true, args: func(e *encoder) {
		e.SP().AString(user).SP().Quoted(password)
	}})
	if err != nil {
		return Result{}, err
	}
	if typ != "OK" {
		return Result{}, &Error{Kind: KindError, Msg: decodeReplace(text), Err: loginRefusal("LOGIN", typ, text)}
	}
	if err := c.authenticated(ctx); err != nil {
		return Result{}, err
	}
	return Result{Typ: typ, Data: []Datum{Bytes(text)}}, nil
}

// authenticated moves to AUTH and refreshes the capabilities (imaplib 3.14.8):
// from a CAPABILITY response or code seen during the command, which is left in
// place, or else by asking again.
func (c *Client) authenticated(ctx context.Context) error {
	c.mu.Lock()
	c.state = StateAuth
	caps, ok := c.untagged["CAPABILITY"]
	if ok {
		c.setCapsLocked(caps)
	}
	c.mu.Unlock()
	if ok {
		return nil
	}
	return c.refreshCapabilities(ctx)
}

// Authenticate runs AUTHENTICATE mechanism with fn answering each challenge
// (imaplib's authenticate). The mechanism is upper-cased and not checked
// against the capabilities. A non-OK completion raises an error with the
// server's text.
func (c *Client) Authenticate(ctx context.Context, mechanism string, fn AuthFunc) (Result, error) {
	mech := strings.ToUpper(mechanism)
	var failed error
	lit := func(ch []byte) ([]byte, bool) {
		resp, err := fn(ch)
		if err != nil {
			failed = err
			return nil, false
		}
		return resp, true
	}
	return c.authenticate(ctx, mech, nil, false, lit, &failed)
}

func (c *Client) authenticate(ctx context.Context, mech string, ir []byte, hasIR bool, lit func([]byte) ([]byte, bool), failed *error) (Result, error) {
	if err := c.checkPlaintextAuth(); err != nil {
		return Result{}, err
	}
	k := &cmd{name: "AUTHENTICATE", secret: true, literator: lit, args: func(e *encoder) { e.SP().Atom(mech) }}
	if hasIR {
		k.hasInitial = true
		if len(ir) == 0 {
			k.initial = []byte("=")
		} else {
			k.initial = []byte(base64.StdEncoding.EncodeToString(ir))
		}
	}
	typ, text, err := c.run(ctx, k)
	if err != nil {
		return Result{}, err
	}
	if typ != "OK" {
		e := &Error{Kind: KindError, Msg: decodeReplace(text), Err: loginRefusal("AUTHENTICATE", typ, text)}
		return Result{}, e
	}
	if err := c.authenticated(ctx); err != nil {
		return Result{}, err
	}
	return Result{Typ: typ, Data: []Datum{Bytes(text)}}, nil
}

// authExchange answers continuation requests until the command completes.
func (c *Client) authExchange(ctx context.Context, p *pending, k *cmd, timeout <-chan time.Time) error {
	rounds := 0
	for {
		got, err := c.awaitContinuation(ctx, p, timeout)
		if err != nil || !got {
			return err
		}
		rounds++
		c.mu.Lock()
		raw := c.contResp
		c.mu.Unlock()
		var out []byte
		ok := rounds <= c.limits.MaxAuthRounds && len(raw) <= base64.StdEncoding.EncodedLen(c.limits.MaxAuthChallenge)
		if ok {
			ch, derr := base64.StdEncoding.DecodeString(string(raw))
			if derr != nil {
				ok = false
			} else {
				out, ok = k.literator(ch)
			}
		}
		line := []byte("*\r\n")
		if ok {
			line = append([]byte(base64.StdEncoding.EncodeToString(out)), '\r', '\n')
		}
		c.traceSend(line, true, "AUTHENTICATE response")
		if err := c.write(line); err != nil {
			return err
		}
	}
}

// LoginCRAMMD5 authenticates with CRAM-MD5 (imaplib's login_cram_md5): the
// response is "user hex(HMAC-MD5(password, challenge))".
func (c *Client) LoginCRAMMD5(ctx context.Context, user, password string) (Result, error) {
	if !cramMD5Supported() {
		return Result{}, &Error{Kind: KindError, Msg: "CRAM-MD5 authentication is not supported", Err: ErrNotSupported}
	}
	return c.Authenticate(ctx, "CRAM-MD5", func(ch []byte) ([]byte, error) {
		return cramMD5Response(user, password, ch), nil
	})
}

func cramMD5Response(user, password string, challenge []byte) []byte {
	m := hmac.New(md5.New, []byte(password))
	m.Write(challenge)
	return []byte(user + " " + hex.EncodeToString(m.Sum(nil)))
}

// LoginPlain authenticates with SASL PLAIN (imaplib 3.16's login_plain): the
// response is base64("\x00user\x00password"), sent after the server's
// continuation request. A NUL in either is refused with ErrBadArgument.
func (c *Client) LoginPlain(ctx context.Context, user, password string) (Result, error) {
	if strings.IndexByte(user, 0) >= 0 || strings.IndexByte(password, 0) >= 0 {
		return Result{}, ErrBadArgument
	}
	return c.Authenticate(ctx, "PLAIN", func([]byte) ([]byte, error) {
		return []byte("\x00" + user + "\x00" + password), nil
	})
}

// AuthenticateSASL authenticates with a SASL mechanism, sending its initial
// response with the command when the server advertises SASL-IR.
func (c *Client) AuthenticateSASL(ctx context.Context, m SASL) (Result, error) {
	ir, err := m.Start()
	if err != nil {
		return Result{}, err
	}
	mech := strings.ToUpper(m.Mechanism())
	useIR := ir != nil && c.HasCapability("SASL-IR")
	first := !useIR && ir != nil
	var failed error
	lit := func(ch []byte) ([]byte, bool) {
		if first {
			first = false
			return ir, true
		}
		resp, err := m.Next(ch)
		if err != nil {
			failed = err
			return nil, false
		}
		return resp, true
	}
	res, err := c.authenticate(ctx, mech, ir, useIR, lit, &failed)
	if err != nil {
		if f, ok := m.(interface{ failure() error }); ok && f.failure() != nil {
			if e, ok := err.(*Error); ok {
				e.Err = &AuthError{Status: f.failure().Error(), Cause: e.Err}
			}
		}
	}
	return res, err
}

var _ = hmac.Equal
