package imapengine

import (
	"errors"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/imap"
	"github.com/imapbridge/imapbridge/internal/imapservers"
)

// TestServers_TypedMetadata: SetMetadata and GetMetadata (RFC 5464) on a
// mailbox where the server offers METADATA (Dovecot, Cyrus): an entry is
// stored, read back, and removed by a nil value; where it does not (Courier)
// the command is refused by the server and the connection goes on.
func TestServers_TypedMetadata(t *testing.T) {
	forServers(t, func(t *testing.T, s *imapservers.Server, k netKind) {
		ctx := liveCtx(t)
		c, user := srvUser(t, s, k)
		if _, err := c.GetMetadata(ctx, "INBOX"); !errors.Is(err, ErrBadArgument) {
			t.Errorf("GetMetadata without entries: %v, want ErrBadArgument", err)
		}
		if !s.Offers("METADATA") {
			_, err := c.GetMetadata(ctx, "INBOX", "/private/comment")
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("GETMETADATA without METADATA: %v, want the server's NO or BAD", err)
			}
			liveOK(t, "noop after the refusal")(c.Noop(ctx))
			return
		}
		v := "note for " + user
		if err := c.SetMetadata(ctx, "INBOX", map[string]*string{"/private/comment": &v}); err != nil {
			t.Fatalf("SetMetadata: %v", err)
		}
		md := mustT[*imap.Metadata](t, "GetMetadata")(c.GetMetadata(ctx, "INBOX", "/private/comment"))
		if got := string(md.Entries["/private/comment"]); got != v {
			t.Errorf("/private/comment = %q, want %q (entries %q)", got, v, md.Entries)
		}
		if err := c.SetMetadata(ctx, "INBOX", map[string]*string{"/private/comment": nil}); err != nil {
			t.Fatalf("SetMetadata nil: %v", err)
		}
		md = mustT[*imap.Metadata](t, "GetMetadata")(c.GetMetadata(ctx, "INBOX", "/private/comment"))
		if len(md.Entries["/private/comment"]) != 0 {
			t.Errorf("after removal: %q", md.Entries)
		}
	})
}
