package imapengine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// verifyingOptions is CPython's ssl_context with CERT_REQUIRED and
// check_hostname, the test CA loaded, and no server name forced: the client
// checks the certificate against the host it dials.
func verifyingOptions(srv *imaptest.Server) *Options {
	return &Options{
		AllowPlaintextAuth: true,
		TLSConfig:          &tls.Config{RootCAs: srv.CertPool()},
		Timeout:            loopbackTimeout,
	}
}

// TestImaplib_test_ssl_raises covers NewIMAPSSLTests.test_ssl_raises and
// test_ssl_verified (and ThreadedNetworkedTestsSSL.test_ssl_verified, which
// combines them): the test certificate is for "localhost" only, so dialling
// 127.0.0.1 fails hostname verification, while "localhost" succeeds.
func TestImaplib_test_ssl_raises(t *testing.T) {
	srv := imaptest.NewServer(t, imaptest.Config{TLS: true})
	port := strconv.Itoa(srv.Port())
	tests := []struct {
		name string
		host string
		ok   bool
	}{
		{"test_ssl_raises", "127.0.0.1", false},
		{"test_ssl_verified", "localhost", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DialTLS(context.Background(), net.JoinHostPort(tt.host, port), verifyingOptions(srv))
			if tt.ok {
				if err != nil {
					t.Fatalf("DialTLS(%s): %v", tt.host, err)
				}
				if !c.IsTLS() || c.State() != StateNonAuth {
					t.Errorf("IsTLS=%v state=%s, want TLS in NONAUTH", c.IsTLS(), c.State())
				}
				if err := c.Shutdown(); err != nil {
					t.Fatalf("shutdown: %v", err)
				}
				return
			}
			if err == nil {
				c.Shutdown()
				t.Fatalf("DialTLS(%s) succeeded, want a certificate error", tt.host)
			}
			var hostErr x509.HostnameError
			var verr *tls.CertificateVerificationError
			if !errors.As(err, &hostErr) && !errors.As(err, &verr) {
				t.Fatalf("DialTLS(%s) = %v (%T), want a certificate verification error", tt.host, err, err)
			}
			if !strings.Contains(err.Error(), "127.0.0.1") {
				t.Fatalf("error %q does not name 127.0.0.1", err)
			}
		})
	}
}
