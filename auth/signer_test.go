package auth

import (
	"crypto"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignerRoundTrip(t *testing.T) {
	k := testKeys(t)
	hs, err := NewHMACSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := NewEd25519Signer(k.ed, "dev-1")
	if err != nil {
		t.Fatal(err)
	}
	hsV := newVerifier(t, hsConfig())
	edV := newVerifier(t, pkConfig(map[string]crypto.PublicKey{"dev-1": k.ed.Public(), "other": k.ed2.Public()}))
	claims := Claims{Subject: "alice", Upstream: "demo", IMAPUser: "alice@demo.test", Credential: CredentialMaster,
		Scopes: Scopes{MayDelete: true, Mailboxes: []string{"INBOX", "Sent Items"}}}
	for _, tc := range []struct {
		name   string
		signer *Signer
		v      *Verifier
	}{
		{"HS256", hs, hsV},
		{"EdDSA", ed, edV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.signer.Issuer, tc.signer.Audience, tc.signer.Now = testIssuer, testAudience, at(0)
			tok, err := tc.signer.Sign(claims, 5*time.Minute)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			got, err := tc.v.Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Subject != "alice" || got.Upstream != "demo" || got.Credential != CredentialMaster ||
				!got.Scopes.MayDelete || !got.Scopes.AllowsMailbox("Sent Items") || got.Scopes.AllowsMailbox("Trash") ||
				!got.ExpiresAt.Equal(testNow.Add(5*time.Minute)) || !got.IssuedAt.Equal(testNow) || len(got.ID) != 32 {
				t.Errorf("claims %v", got)
			}
			if _, err := tc.signer.Sign(claims, 16*time.Minute); err != nil {
				t.Fatal(err)
			}
			long, _ := tc.signer.Sign(claims, 16*time.Minute)
			if _, err := tc.v.Verify(long); !errors.Is(err, ErrLifetimeExceeded) {
				t.Errorf("16 min token: %v", err)
			}
		})
	}
	untyped, _ := NewHMACSigner(testSecret)
	untyped.Issuer, untyped.Audience, untyped.Now, untyped.Type = testIssuer, testAudience, at(0), ""
	tok, err := untyped.Sign(claims, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hsV.Verify(tok); !errors.Is(err, ErrWrongType) {
		t.Errorf("untyped token: %v", err)
	}
}

func TestSignerErrors(t *testing.T) {
	k := testKeys(t)
	if _, err := NewHMACSigner(testSecret[:31]); !errors.Is(err, ErrSign) {
		t.Errorf("short secret: %v", err)
	}
	if _, err := NewEd25519Signer(k.ed[:10], ""); !errors.Is(err, ErrSign) {
		t.Errorf("short key: %v", err)
	}
	if _, err := NewEd25519Signer(k.ed, "a\nb"); !errors.Is(err, ErrSign) {
		t.Errorf("bad kid: %v", err)
	}
	s, _ := NewHMACSigner(testSecret)
	ok := Claims{Subject: "alice", Credential: CredentialPassword}
	for _, tc := range []struct {
		name   string
		signer *Signer
		c      Claims
		ttl    time.Duration
		want   error
	}{
		{"nil signer", nil, ok, time.Minute, ErrSign},
		{"zero signer", &Signer{}, ok, time.Minute, ErrSign},
		{"zero ttl", s, ok, 0, ErrSign},
		{"no subject", s, Claims{Credential: CredentialPassword}, time.Minute, ErrBadClaim},
		{"host upstream", s, Claims{Subject: "a", Credential: CredentialPassword, Upstream: "imap.x.test"}, time.Minute, ErrBadClaim},
		{"oauth without token", s, Claims{Subject: "a", Credential: CredentialOAuth}, time.Minute, ErrBadClaim},
		{"unknown cred", s, Claims{Subject: "a", Credential: "x"}, time.Minute, ErrBadClaim},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.signer.Sign(tc.c, tc.ttl)
			if !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), "auth: ") {
				t.Fatalf("Sign: %v, want %v", err, tc.want)
			}
		})
	}
}
