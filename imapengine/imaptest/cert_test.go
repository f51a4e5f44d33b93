package imaptest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"testing"
	"time"
)

func TestNewCert(t *testing.T) {
	_, otherPool := NewCert(t, CertOptions{})
	tests := []struct {
		name       string
		opts       CertOptions
		serverName string
		usePool    bool // verify with the cert's own pool (else otherPool)
		wantErr    any  // pointer to the wanted error type, nil for success
	}{
		{"default localhost", CertOptions{}, "localhost", true, nil},
		{"ip literal without ip san", CertOptions{}, "127.0.0.1", true, new(x509.HostnameError)},
		{"san mismatch", CertOptions{DNSNames: []string{"other.example"}}, "localhost", true, new(x509.HostnameError)},
		{"expired", CertOptions{NotAfter: time.Now().Add(-time.Hour)}, "localhost", true, new(x509.CertificateInvalidError)},
		{"ip san", CertOptions{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, "127.0.0.1", true, nil},
		{"self-signed, untrusted", CertOptions{SelfSigned: true}, "localhost", false, new(x509.UnknownAuthorityError)},
		{"self-signed, pinned", CertOptions{SelfSigned: true}, "localhost", true, nil},
		{"wrong CA", CertOptions{}, "localhost", false, new(x509.UnknownAuthorityError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, pool := NewCert(t, tt.opts)
			if !tt.usePool {
				pool = otherPool
			}
			s := NewServer(t, Config{TLS: true, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}})
			conn, err := tls.Dial("tcp", s.Addr(), &tls.Config{RootCAs: pool, ServerName: tt.serverName})
			if conn != nil {
				defer conn.Close()
			}
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
			case *x509.HostnameError:
				if !errors.As(err, want) {
					t.Errorf("err = %v, want HostnameError", err)
				}
			case *x509.CertificateInvalidError:
				if !errors.As(err, want) || want.Reason != x509.Expired {
					t.Errorf("err = %v, want expired", err)
				}
			case *x509.UnknownAuthorityError:
				if !errors.As(err, want) {
					t.Errorf("err = %v, want UnknownAuthorityError", err)
				}
			}
		})
	}
}
