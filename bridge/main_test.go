package bridge

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/imapbridge/imapbridge/internal/faults"
)

// TestMain fails the package's tests when any goroutine outlives them:
// every session, reader, writer and pinger must end with its session
// (Toxiproxy's own link goroutines of the fault tests excepted, see
// faults.LeakOptions).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, faults.LeakOptions()...)
}
