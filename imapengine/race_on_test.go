//go:build race

package imapengine

// raceEnabled: the race detector turns off the runtime's packing of tiny
// objects, so each 1-byte literal then costs a 16-byte allocation.
const raceEnabled = true
