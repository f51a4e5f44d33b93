package imap

import (
	"bytes"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// testLimits are the limits used by the tests.
var testLimits = imapwire.Limits{}

// resp frames one raw server response (CRLF-terminated) with imapwire.
func resp(t testing.TB, raw string) *imapwire.Response {
	t.Helper()
	r, err := imapwire.NewReader(bytes.NewReader([]byte(raw)), testLimits).ReadResponse()
	if err != nil {
		t.Fatalf("framing %q: %v", raw, err)
	}
	return r
}

// tryResp frames raw, returning nil if it does not frame (for fuzzing).
func tryResp(raw []byte, l imapwire.Limits) *imapwire.Response {
	r, err := imapwire.NewReader(bytes.NewReader(raw), l).ReadResponse()
	if err != nil {
		return nil
	}
	return r
}
