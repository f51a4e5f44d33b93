package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
)

// Key limits.
const (
	// MinRSAKeyBits is the smallest RSA modulus accepted (RFC 7518 §3.3).
	MinRSAKeyBits = 2048
	// MaxRSAKeyBits is the largest RSA modulus accepted, bounding verify cost.
	MaxRSAKeyBits = 8192
	// MaxKeyFileSize caps a PEM or JWKS file read by LoadPEMKeys or LoadJWKS.
	MaxKeyFileSize = 1 << 20
	// MaxKeys caps the number of keys in one Config.
	MaxKeys = 64
)

// JWS algorithm names, pinned by key type.
const (
	AlgHS256 = "HS256" // AlgHS256 is used with Config.HMACSecret.
	AlgRS256 = "RS256" // AlgRS256 is used with *rsa.PublicKey.
	AlgES256 = "ES256" // AlgES256 is used with *ecdsa.PublicKey on P-256.
	AlgEdDSA = "EdDSA" // AlgEdDSA is used with ed25519.PublicKey.
)

// keyAlg returns the single algorithm a public key may verify, after checking
// that the key is acceptable.
func keyAlg(kid string, key crypto.PublicKey) (string, crypto.PublicKey, error) {
	bad := func(reason string) (string, crypto.PublicKey, error) {
		return "", nil, &KeyError{Source: "kid " + fmt.Sprintf("%q", kid), Reason: reason}
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return bad("nil RSA key")
		}
		if n := k.N.BitLen(); n < MinRSAKeyBits || n > MaxRSAKeyBits {
			return bad(fmt.Sprintf("RSA modulus of %d bits outside [%d, %d]", n, MinRSAKeyBits, MaxRSAKeyBits))
		}
		if k.E < 3 || k.E%2 == 0 {
			return bad("RSA exponent must be odd and at least 3")
		}
		return AlgRS256, k, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return bad("ECDSA key is not on P-256")
		}
		if _, err := k.Bytes(); err != nil {
			return bad("ECDSA key is not a valid P-256 point")
		}
		return AlgES256, k, nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return bad("Ed25519 key has the wrong length")
		}
		return AlgEdDSA, k, nil
	case *ed25519.PublicKey:
		if k == nil {
			return bad("nil Ed25519 key")
		}
		return keyAlg(kid, *k)
	case nil:
		return bad("nil key")
	default:
		return bad(fmt.Sprintf("unsupported key type %T (want RSA, ECDSA P-256 or Ed25519 public key)", key))
	}
}

// readKeyFile reads at most MaxKeyFileSize bytes of path.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &KeyError{Source: path, Reason: "cannot open", Err: err}
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, &KeyError{Source: path, Reason: "cannot read", Err: err}
	}
	if len(data) > MaxKeyFileSize {
		return nil, &KeyError{Source: path, Reason: fmt.Sprintf("larger than %d bytes", MaxKeyFileSize)}
	}
	return data, nil
}

// LoadPEMKeys reads one public key per file, for Config.PublicKeys. The kid
// of each key is its file name without directory and extension
// ("keys/2026-11.pem" has kid "2026-11"). A file holds a "PUBLIC KEY"
// (PKIX), "RSA PUBLIC KEY" (PKCS #1) or "CERTIFICATE" block; private keys are
// refused, since a verifier must never hold one.
func LoadPEMKeys(paths ...string) (map[string]crypto.PublicKey, error) {
	if len(paths) > MaxKeys {
		return nil, &KeyError{Reason: fmt.Sprintf("more than %d key files", MaxKeys)}
	}
	keys := make(map[string]crypto.PublicKey, len(paths))
	for _, p := range paths {
		data, err := readKeyFile(p)
		if err != nil {
			return nil, err
		}
		key, err := ParsePEMPublicKey(data)
		if err != nil {
			var ke *KeyError
			if errors.As(err, &ke) {
				ke.Source = p
			}
			return nil, err
		}
		kid := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		if _, dup := keys[kid]; dup {
			return nil, &KeyError{Source: p, Reason: "duplicate kid " + fmt.Sprintf("%q", kid)}
		}
		if _, _, err := keyAlg(kid, key); err != nil {
			return nil, err
		}
		keys[kid] = key
	}
	return keys, nil
}

// ParsePEMPublicKey parses the single PEM block of data as a public key (see
// LoadPEMKeys for the accepted block types).
func ParsePEMPublicKey(data []byte) (crypto.PublicKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, &KeyError{Reason: "no PEM block"}
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, &KeyError{Reason: "more than one PEM block"}
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, &KeyError{Reason: "bad PKIX public key", Err: err}
		}
		return k, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, &KeyError{Reason: "bad PKCS #1 public key", Err: err}
		}
		return k, nil
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, &KeyError{Reason: "bad certificate", Err: err}
		}
		return c.PublicKey, nil
	default:
		if strings.Contains(block.Type, "PRIVATE") {
			return nil, &KeyError{Reason: "private key refused; configure the public key"}
		}
		return nil, &KeyError{Reason: fmt.Sprintf("unsupported PEM block %q", block.Type)}
	}
}

// jwk is the subset of RFC 7517/7518/8037 fields read from a JWKS.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
}

// LoadJWKS reads a JWKS file (RFC 7517 §5) for Config.PublicKeys; see ParseJWKS.
func LoadJWKS(path string) (map[string]crypto.PublicKey, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	keys, err := ParseJWKS(data)
	if err != nil {
		var ke *KeyError
		if errors.As(err, &ke) {
			ke.Source = path + ": " + ke.Source
		}
	}
	return keys, err
}

// ParseJWKS parses a JWK Set. Every key needs a unique kid; "use", when
// present, must be "sig", and "alg", when present, must be the algorithm
// pinned for the key type. Accepted: kty RSA (n, e), EC with crv P-256 (x, y)
// and OKP with crv Ed25519 (x). Keys carrying private parts ("d") are refused.
func ParseJWKS(data []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, &KeyError{Reason: "malformed JWKS", Err: err}
	}
	if len(set.Keys) == 0 {
		return nil, &KeyError{Reason: "JWKS holds no key"}
	}
	if len(set.Keys) > MaxKeys {
		return nil, &KeyError{Reason: fmt.Sprintf("JWKS holds more than %d keys", MaxKeys)}
	}
	keys := make(map[string]crypto.PublicKey, len(set.Keys))
	for i, k := range set.Keys {
		src := fmt.Sprintf("keys[%d]", i)
		if k.Kid == "" {
			return nil, &KeyError{Source: src, Reason: "missing kid"}
		}
		if _, dup := keys[k.Kid]; dup {
			return nil, &KeyError{Source: src, Reason: "duplicate kid"}
		}
		if k.D != "" {
			return nil, &KeyError{Source: src, Reason: "private key refused; publish only the public part"}
		}
		if k.Use != "" && k.Use != "sig" {
			return nil, &KeyError{Source: src, Reason: "use is not sig"}
		}
		pub, err := k.publicKey()
		if err != nil {
			return nil, &KeyError{Source: src, Reason: err.Error()}
		}
		alg, pub, err := keyAlg(k.Kid, pub)
		if err != nil {
			return nil, err
		}
		if k.Alg != "" && k.Alg != alg {
			return nil, &KeyError{Source: src, Reason: fmt.Sprintf("alg does not match the key type (want %s)", alg)}
		}
		keys[k.Kid] = pub
	}
	return keys, nil
}

// publicKey builds the Go key from the JWK members.
func (k jwk) publicKey() (crypto.PublicKey, error) {
	switch k.Kty {
	case "RSA":
		n, err := b64Field("n", k.N, 0)
		if err != nil {
			return nil, err
		}
		e, err := b64Field("e", k.E, 0)
		if err != nil {
			return nil, err
		}
		if len(e) > 4 || len(n) > MaxRSAKeyBits/8 {
			return nil, errors.New("RSA n or e too large")
		}
		ev := new(big.Int).SetBytes(e)
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev.Int64())}, nil
	case "EC":
		if k.Crv != "P-256" {
			return nil, errors.New("EC crv must be P-256")
		}
		x, err := b64Field("x", k.X, 32)
		if err != nil {
			return nil, err
		}
		y, err := b64Field("y", k.Y, 32)
		if err != nil {
			return nil, err
		}
		pt := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
		if err != nil {
			return nil, errors.New("EC point is not on P-256")
		}
		return pub, nil
	case "OKP":
		if k.Crv != "Ed25519" {
			return nil, errors.New("OKP crv must be Ed25519")
		}
		x, err := b64Field("x", k.X, ed25519.PublicKeySize)
		if err != nil {
			return nil, err
		}
		return ed25519.PublicKey(x), nil
	default:
		return nil, errors.New("unsupported kty (want RSA, EC or OKP)")
	}
}

// b64Field decodes an unpadded base64url member; size > 0 demands that length.
func b64Field(name, s string, size int) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("member %s is not base64url", name)
	}
	if size > 0 && len(b) != size {
		return nil, fmt.Errorf("member %s must be %d bytes", name, size)
	}
	return b, nil
}
