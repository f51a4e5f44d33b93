package imapengine

// Live tests of unsolicited data against Dovecot's stdio kind: while
// IdleLoop runs, a second connection delivers, flags and expunges, and
// Options.OnEvent sees each change with the message's UID (issue 3's "Done
// when"); the body is idleLoopEvents in servers_events_test.go.

import (
	"testing"

	"github.com/imapbridge/imapbridge/internal/dovecottest"
)

// TestDovecot_IdleLoopEvents: TestServers_IdleLoopEvents over Dovecot's
// preauthenticated stdio kind (the network kinds run on every server there).
func TestDovecot_IdleLoopEvents(t *testing.T) {
	forStreamKind(t, func(t *testing.T, s *dovecottest.Server, k liveKind) {
		for _, qresync := range []bool{false, true} {
			user, pw := s.NewUser(t)
			idleLoopEvents(t, qresync, user,
				func(o *Options) *Client { return liveConnect(t, s, k, user, pw, o) },
				func() *Client { return liveLogin(t, s, liveKinds[0], user, pw) },
				func(msg []byte) { s.Deliver(t, user, msg) })
		}
	})
}
