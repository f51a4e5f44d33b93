package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemBlock(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkixPEM(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock(t, "PUBLIC KEY", der)
}

func TestLoadPEMKeys(t *testing.T) {
	k := testKeys(t)
	dir := t.TempDir()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer"},
		NotBefore: testNow, NotAfter: testNow.Add(time.Hour)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.ec.PublicKey, k.ec)
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(k.ed)
	if err != nil {
		t.Fatal(err)
	}
	rsaPath := writeFile(t, dir, "rsa-2026.pem", pkixPEM(t, &k.rsa.PublicKey))
	pkcs1Path := writeFile(t, dir, "pkcs1.pem", pemBlock(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)))
	certPath := writeFile(t, dir, "cert.crt", pemBlock(t, "CERTIFICATE", certDER))
	edPath := writeFile(t, dir, "ed.pub", pkixPEM(t, k.ed.Public()))
	privPath := writeFile(t, dir, "priv.pem", pemBlock(t, "PRIVATE KEY", privDER))
	twoPath := writeFile(t, dir, "two.pem", append(pkixPEM(t, k.ed.Public()), pkixPEM(t, k.ed2.Public())...))
	weakPath := writeFile(t, dir, "weak.pem", pkixPEM(t, &k.rsa1024.PublicKey))
	p384Path := writeFile(t, dir, "p384.pem", pkixPEM(t, &k.ec384.PublicKey))
	junkPath := writeFile(t, dir, "junk.pem", []byte("not a key"))
	dupPath := writeFile(t, dir, "other/rsa-2026.pem", pkixPEM(t, k.ed.Public()))
	bigPath := writeFile(t, dir, "big.pem", make([]byte, MaxKeyFileSize+1))

	keys, err := LoadPEMKeys(rsaPath, pkcs1Path, certPath, edPath)
	if err != nil {
		t.Fatalf("LoadPEMKeys: %v", err)
	}
	for _, kid := range []string{"rsa-2026", "pkcs1", "cert", "ed"} {
		if keys[kid] == nil {
			t.Errorf("kid %q missing from %v", kid, keys)
		}
	}
	v := newVerifier(t, pkConfig(keys))
	c := baseClaims()
	for _, tok := range []string{
		mint(t, jwt.SigningMethodRS256, k.rsa, c, "kid", "rsa-2026"),
		mint(t, jwt.SigningMethodRS256, k.rsa, c, "kid", "pkcs1"),
		mint(t, jwt.SigningMethodES256, k.ec, c, "kid", "cert"),
		mint(t, jwt.SigningMethodEdDSA, k.ed, c, "kid", "ed"),
	} {
		if _, err := v.Verify(tok); err != nil {
			t.Errorf("Verify: %v", err)
		}
	}

	for _, tc := range []struct {
		name  string
		paths []string
		want  string
	}{
		{"private key", []string{privPath}, "private key refused"},
		{"two blocks", []string{twoPath}, "more than one PEM block"},
		{"RSA 1024", []string{weakPath}, "RSA modulus"},
		{"P-384", []string{p384Path}, "P-256"},
		{"junk", []string{junkPath}, "no PEM block"},
		{"duplicate kid", []string{rsaPath, dupPath}, "duplicate kid"},
		{"missing file", []string{filepath.Join(dir, "nope.pem")}, "cannot open"},
		{"too big", []string{bigPath}, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadPEMKeys(tc.paths...)
			if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadPEMKeys: %v, want ErrInvalidKey with %q", err, tc.want)
			}
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Source == "" {
				t.Errorf("no *KeyError with a source: %#v", err)
			}
		})
	}
}

// jwkOf renders a public key as a JWK map.
func jwkOf(t *testing.T, kid string, pub crypto.PublicKey) map[string]any {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"kty": "EC", "kid": kid, "crv": "P-256", "x": enc(b[1:33]), "y": enc(b[33:])}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "alg": "EdDSA", "x": enc(k)}
	}
	t.Fatalf("unsupported %T", pub)
	return nil
}

func jwks(t *testing.T, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJWKS(t *testing.T) {
	k := testKeys(t)
	rsaJWK := jwkOf(t, "r", &k.rsa.PublicKey)
	ecJWK := jwkOf(t, "e", &k.ec.PublicKey)
	edJWK := jwkOf(t, "d", k.ed.Public())
	path := writeFile(t, t.TempDir(), "jwks.json", jwks(t, rsaJWK, ecJWK, edJWK))
	keys, err := LoadJWKS(path)
	if err != nil {
		t.Fatalf("LoadJWKS: %v", err)
	}
	v := newVerifier(t, pkConfig(keys))
	c := baseClaims()
	for _, tok := range []string{
		mint(t, jwt.SigningMethodRS256, k.rsa, c, "kid", "r"),
		mint(t, jwt.SigningMethodES256, k.ec, c, "kid", "e"),
		mint(t, jwt.SigningMethodEdDSA, k.ed, c, "kid", "d"),
	} {
		if _, err := v.Verify(tok); err != nil {
			t.Errorf("Verify: %v", err)
		}
	}

	offCurve := with(ecJWK, "y", base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not JSON", []byte("{"), "malformed JWKS"},
		{"no keys", jwks(t), "no key"},
		{"missing kid", jwks(t, with(edJWK, "kid", nil)), "missing kid"},
		{"duplicate kid", jwks(t, edJWK, with(ecJWK, "kid", "d")), "duplicate kid"},
		{"private part", jwks(t, with(edJWK, "d", "AAAA")), "private key refused"},
		{"use enc", jwks(t, with(rsaJWK, "use", "enc")), "use is not sig"},
		{"alg mismatch", jwks(t, with(rsaJWK, "alg", "HS256")), "alg does not match"},
		{"EC P-384", jwks(t, with(ecJWK, "crv", "P-384")), "P-256"},
		{"EC off curve", jwks(t, offCurve), "not on P-256"},
		{"EC short x", jwks(t, with(ecJWK, "x", "AAAA")), "32 bytes"},
		{"OKP X25519", jwks(t, with(edJWK, "crv", "X25519")), "Ed25519"},
		{"kty oct", jwks(t, map[string]any{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}), "unsupported kty"},
		{"bad base64", jwks(t, with(rsaJWK, "n", "!!!")), "base64url"},
		{"padded base64", jwks(t, with(edJWK, "x", edJWK["x"].(string)+"=")), "base64url"},
		{"RSA 1024", jwks(t, jwkOf(t, "w", &k.rsa1024.PublicKey)), "RSA modulus"},
		{"RSA even exponent", jwks(t, with(rsaJWK, "e", "Ag")), "exponent"},
		{"RSA huge exponent", jwks(t, with(rsaJWK, "e", "AQAAAAAB")), "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJWKS(tc.data)
			if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseJWKS: %v, want ErrInvalidKey with %q", err, tc.want)
			}
		})
	}
	if _, err := LoadJWKS(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("missing file: %v", err)
	}
}
