//go:build !race

package imapengine

// raceEnabled: see race_on_test.go.
const raceEnabled = false
