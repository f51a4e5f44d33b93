package bridge

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when any goroutine outlives them:
// every session, reader, writer and pinger must end with its session.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
