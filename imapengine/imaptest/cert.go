package imaptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// CertValidity is how long generated certificates stay valid when
// CertOptions.NotAfter is zero. CertBackdate is how far before "now" their
// validity starts, to tolerate small clock differences.
const (
	CertValidity = 24 * time.Hour
	CertBackdate = time.Hour
)

// DefaultCertHost is the only DNS name in the server's default certificate.
// It deliberately has no IP SAN, so a client verifying "127.0.0.1" must fail.
const DefaultCertHost = "localhost"

// CertOptions describes a test certificate made by NewCert.
type CertOptions struct {
	// DNSNames are the DNS SANs. If both DNSNames and IPs are empty the
	// certificate is for DefaultCertHost.
	DNSNames []string
	// IPs are the IP-address SANs.
	IPs []net.IP
	// NotAfter ends the validity period; zero means now + CertValidity. A
	// past time makes an expired certificate.
	NotAfter time.Time
	// SelfSigned makes the leaf sign itself instead of being signed by a
	// fresh test CA.
	SelfSigned bool
}

// NewCert makes a leaf certificate and key for a TLS server, plus a pool
// holding its trust anchor: the fresh ECDSA CA that signed it, or, with
// SelfSigned, the leaf itself. A client that should reject the certificate
// must use a different pool (for example the system roots or another
// NewCert's pool). Failures end the test with t.Fatal.
func NewCert(t testing.TB, opts CertOptions) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, pool, err := makeCert(opts)
	if err != nil {
		t.Fatalf("imaptest: %v", err)
	}
	return cert, pool
}

var (
	defaultCertOnce sync.Once
	defaultCert     tls.Certificate
	defaultPool     *x509.CertPool
	defaultCertErr  error
)

// serverCert returns the process-wide certificate for DefaultCertHost and the
// pool of the CA that signed it, generating them on first use.
func serverCert() (tls.Certificate, *x509.CertPool, error) {
	defaultCertOnce.Do(func() {
		defaultCert, defaultPool, defaultCertErr = makeCert(CertOptions{})
	})
	return defaultCert, defaultPool, defaultCertErr
}

func makeCert(opts CertOptions) (tls.Certificate, *x509.CertPool, error) {
	now := time.Now()
	notAfter := opts.NotAfter
	if notAfter.IsZero() {
		notAfter = now.Add(CertValidity)
	}
	notBefore := now.Add(-CertBackdate)
	if !notBefore.Before(notAfter) {
		notBefore = notAfter.Add(-CertBackdate)
	}
	dns := opts.DNSNames
	if len(dns) == 0 && len(opts.IPs) == 0 {
		dns = []string{DefaultCertHost}
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("generate leaf key: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: firstName(dns, opts.IPs), Organization: []string{"imaptest"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           opts.IPs,
	}

	signerTmpl, signerKey := leafTmpl, leafKey
	var caDER []byte
	if !opts.SelfSigned {
		caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("generate CA key: %w", err)
		}
		caTmpl := &x509.Certificate{
			SerialNumber:          newSerial(),
			Subject:               pkix.Name{CommonName: "imaptest CA", Organization: []string{"imaptest"}},
			NotBefore:             now.Add(-CertBackdate),
			NotAfter:              now.Add(CertValidity),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		if caTmpl.NotAfter.Before(notAfter) {
			caTmpl.NotAfter = notAfter
		}
		if caTmpl.NotBefore.After(notBefore) {
			caTmpl.NotBefore = notBefore
		}
		caDER, err = x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
		if err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("create CA certificate: %w", err)
		}
		caCert, err := x509.ParseCertificate(caDER)
		if err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("parse CA certificate: %w", err)
		}
		signerTmpl, signerKey = caCert, caKey
	}

	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, signerTmpl, &leafKey.PublicKey, signerKey)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("create leaf certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("parse leaf certificate: %w", err)
	}

	pool := x509.NewCertPool()
	cert := tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey, Leaf: leaf}
	if opts.SelfSigned {
		pool.AddCert(leaf)
	} else {
		caCert, err := x509.ParseCertificate(caDER)
		if err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("parse CA certificate: %w", err)
		}
		pool.AddCert(caCert)
		cert.Certificate = append(cert.Certificate, caDER)
	}
	return cert, pool, nil
}

func newSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

func firstName(dns []string, ips []net.IP) string {
	if len(dns) > 0 {
		return dns[0]
	}
	if len(ips) > 0 {
		return ips[0].String()
	}
	return DefaultCertHost
}
