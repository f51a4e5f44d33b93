package auth_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/imapbridge/imapbridge/auth"
)

func ExampleVerifier_Verify() {
	secret := []byte("a development secret of at least 32 bytes")
	now := func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) }

	// The issuer side: the embedded dev server's token endpoint does this.
	signer, err := auth.NewHMACSigner(secret)
	if err != nil {
		fmt.Println(err)
		return
	}
	signer.Issuer, signer.Audience, signer.Now = "https://dev.imapbridge.test", "imap-bridge", now
	token, err := signer.Sign(auth.Claims{
		Subject:    "alice",
		Upstream:   "demo",
		Credential: auth.CredentialMaster,
		Scopes:     auth.Scopes{ReadOnly: true, Mailboxes: []string{"INBOX", "Archive/*"}},
	}, 10*time.Minute)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The bridge side.
	v, err := auth.NewVerifier(auth.Config{
		Issuer:     "https://dev.imapbridge.test",
		Audience:   "imap-bridge",
		Type:       auth.DefaultTokenType,
		HMACSecret: secret,
		Now:        now,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := v.Verify(token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Subject, c.Upstream, c.Credential, c.ExpiresAt.Format(time.RFC3339))
	fmt.Println("read-only:", c.Scopes.ReadOnly, "Archive/2025:", c.Scopes.AllowsMailbox("Archive/2025"), "Trash:", c.Scopes.AllowsMailbox("Trash"))

	// A token issued an hour ago has expired: the bridge closes with 4401.
	signer.Now = func() time.Time { return now().Add(-time.Hour) }
	old, err := signer.Sign(auth.Claims{Subject: "alice", Credential: auth.CredentialPassword}, 10*time.Minute)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = v.Verify(old)
	fmt.Println(errors.Is(err, auth.ErrTokenExpired), errors.Is(err, auth.ErrTokenInvalid))
	// Output:
	// alice demo master 2026-11-22T10:10:00Z
	// read-only: true Archive/2025: true Trash: false
	// true true
}

func ExampleScopes_AllowsMailbox() {
	s, err := auth.ParseScopes("write mailbox:INBOX mailbox:Archive%2F*")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range []string{"inbox", "Archive/2025", "Archive", "Trash"} {
		fmt.Println(name, s.AllowsMailbox(name))
	}
	// Output:
	// inbox true
	// Archive/2025 true
	// Archive false
	// Trash false
}
