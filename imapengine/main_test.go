package imapengine

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// TestMain fails the package if any test leaves a goroutine running: every
// connection's reader goroutine must exit with its connection.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// transport is one of the ways the CPython suite runs each scenario: plain TCP
// (NewIMAPTests, ThreadedNetworkedTests) or implicit TLS (NewIMAPSSLTests,
// ThreadedNetworkedTestsSSL).
type transport struct {
	name string
	tls  bool
}

var transports = []transport{{"TCP", false}, {"TLS", true}}

// forTransports runs f as a subtest over each transport.
func forTransports(t *testing.T, f func(t *testing.T, tr transport)) {
	t.Helper()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { f(t, tr) })
	}
}

// server starts a fake server for this transport.
func (tr transport) server(t *testing.T, cfg imaptest.Config) *imaptest.Server {
	t.Helper()
	cfg.TLS = tr.tls
	return imaptest.NewServer(t, cfg)
}

// options returns client options for srv: plaintext auth allowed on loopback,
// the test CA trusted for TLS, short deadlines so a broken test fails fast.
func (tr transport) options(srv *imaptest.Server) *Options {
	o := &Options{AllowPlaintextAuth: true, CommandTimeout: 10 * time.Second, GreetingTimeout: 10 * time.Second}
	if tr.tls {
		o.TLSConfig = &tls.Config{RootCAs: srv.CertPool(), ServerName: "localhost"}
	}
	return o
}

// dial connects to srv with opts (nil means tr.options(srv)).
func (tr transport) dial(t *testing.T, srv *imaptest.Server, opts *Options) (*Client, error) {
	t.Helper()
	if opts == nil {
		opts = tr.options(srv)
	}
	ctx := context.Background()
	if tr.tls {
		return DialTLS(ctx, srv.Addr(), opts)
	}
	return Dial(ctx, srv.Addr(), opts)
}

// mustDial is dial that fails the test on error and shuts the client down at
// the end of the test.
func (tr transport) mustDial(t *testing.T, srv *imaptest.Server, opts *Options) *Client {
	t.Helper()
	c, err := tr.dial(t, srv, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Shutdown() })
	return c
}

// setup is NewIMAPTestsMixin._setup: a server with cfg and a connected client.
func (tr transport) setup(t *testing.T, cfg imaptest.Config) (*imaptest.Server, *Client) {
	t.Helper()
	srv := tr.server(t, cfg)
	return srv, tr.mustDial(t, srv, nil)
}

// mustLogin logs in as user/pass and fails the test on error.
func mustLogin(t *testing.T, c *Client) {
	t.Helper()
	if _, err := c.Login(context.Background(), "user", "pass"); err != nil {
		t.Fatalf("login: %v", err)
	}
}

// strs renders data as Go strings for comparisons ("<None>" for None,
// "header|literal" for pairs).
func strs(data []Datum) []string {
	out := make([]string, len(data))
	for i, d := range data {
		switch {
		case d.IsNone():
			out[i] = "<None>"
		case d.IsPair():
			out[i] = string(d.Bytes()) + "|" + string(d.Literal())
		default:
			out[i] = string(d.Bytes())
		}
	}
	return out
}
