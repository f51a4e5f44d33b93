package imapengine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SASL is a client SASL mechanism for AuthenticateSASL.
type SASL interface {
	// Mechanism returns the registered mechanism name, e.g. "PLAIN".
	Mechanism() string
	// Start returns the initial response; nil means the mechanism has none.
	Start() ([]byte, error)
	// Next answers a server challenge.
	Next(challenge []byte) ([]byte, error)
}

// AuthError reports a SASL failure the server explained, such as an OAuth
// error status ("invalid_token"): the application should obtain a new token
// rather than retry.
type AuthError struct {
	Status string
	Cause  error
}

func (e *AuthError) Error() string { return "imapengine: authentication failed: " + e.Status }

// Unwrap returns the server's status error.
func (e *AuthError) Unwrap() error { return e.Cause }

// errSASLField is returned for a credential that would corrupt a SASL message.
var errSASLField = fmt.Errorf("%w: invalid character in SASL credential", ErrBadArgument)

type plainAuth struct{ authzid, user, pass string }

// PlainAuth returns the PLAIN mechanism (RFC 4616). A NUL in any field is refused.
func PlainAuth(authzid, user, password string) SASL { return &plainAuth{authzid, user, password} }

func (a *plainAuth) Mechanism() string { return "PLAIN" }
func (a *plainAuth) Start() ([]byte, error) {
	if strings.ContainsRune(a.authzid+a.user+a.pass, 0) {
		return nil, errSASLField
	}
	return []byte(a.authzid + "\x00" + a.user + "\x00" + a.pass), nil
}
func (a *plainAuth) Next([]byte) ([]byte, error) {
	return nil, errors.New("imapengine: unexpected PLAIN challenge")
}

type loginAuth struct {
	user, pass string
	step       int
}

// LoginAuth returns the LOGIN mechanism: user name, then password, each in
// answer to one challenge.
func LoginAuth(user, password string) SASL { return &loginAuth{user: user, pass: password} }

func (a *loginAuth) Mechanism() string      { return "LOGIN" }
func (a *loginAuth) Start() ([]byte, error) { return nil, nil }
func (a *loginAuth) Next([]byte) ([]byte, error) {
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.pass), nil
	}
	return nil, errors.New("imapengine: unexpected LOGIN challenge")
}

type cramAuth struct{ user, pass string }

// CRAMMD5Auth returns the CRAM-MD5 mechanism (RFC 2195).
func CRAMMD5Auth(user, password string) SASL { return &cramAuth{user, password} }

func (a *cramAuth) Mechanism() string      { return "CRAM-MD5" }
func (a *cramAuth) Start() ([]byte, error) { return nil, nil }
func (a *cramAuth) Next(ch []byte) ([]byte, error) {
	if !cramMD5Supported() {
		return nil, ErrNotSupported
	}
	return cramMD5Response(a.user, a.pass, ch), nil
}

// oauthAuth implements XOAUTH2 and OAUTHBEARER (RFC 7628).
type oauthAuth struct {
	bearer    bool
	user, tok string
	host      string
	port      int
	errStatus string
}

// XOAuth2 returns Google's and Microsoft's XOAUTH2 mechanism.
func XOAuth2(user, token string) SASL { return &oauthAuth{user: user, tok: token} }

// OAuthBearer returns the OAUTHBEARER mechanism (RFC 7628). host and port are
// optional (empty and 0 omit them).
func OAuthBearer(user, token, host string, port int) SASL {
	return &oauthAuth{bearer: true, user: user, tok: token, host: host, port: port}
}

func (a *oauthAuth) Mechanism() string {
	if a.bearer {
		return "OAUTHBEARER"
	}
	return "XOAUTH2"
}

func (a *oauthAuth) Start() ([]byte, error) {
	if strings.ContainsAny(a.user+a.tok+a.host, "\x00\x01\r\n") {
		return nil, errSASLField
	}
	if !a.bearer {
		return []byte("user=" + a.user + "\x01auth=Bearer " + a.tok + "\x01\x01"), nil
	}
	// GS2 header: the authzid escapes ',' and '=' (RFC 5801).
	authz := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(a.user)
	var b strings.Builder
	b.WriteString("n,")
	if a.user != "" {
		b.WriteString("a=" + authz)
	}
	b.WriteString(",\x01")
	if a.host != "" {
		b.WriteString("host=" + a.host + "\x01")
	}
	if a.port != 0 {
		b.WriteString("port=" + strconv.Itoa(a.port) + "\x01")
	}
	b.WriteString("auth=Bearer " + a.tok + "\x01\x01")
	return []byte(b.String()), nil
}

// Next receives the server's error JSON; the client answers with the dummy
// response (0x01 for OAUTHBEARER, empty for XOAUTH2) so the server can send NO.
func (a *oauthAuth) Next(ch []byte) ([]byte, error) {
	var body struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(ch, &body) == nil && body.Status != "" {
		a.errStatus = body.Status
	} else {
		a.errStatus = "unknown"
	}
	if a.bearer {
		return []byte{1}, nil
	}
	return []byte{}, nil
}

func (a *oauthAuth) failure() error {
	if a.errStatus == "" {
		return nil
	}
	return errors.New(a.errStatus)
}
