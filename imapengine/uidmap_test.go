package imapengine

import (
	"math/rand"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// TestSeqMapModel drives the sequence-number → UID map like a server drives
// a client (EXISTS of new messages, EXPUNGE, FETCH UIDs, VANISHED of known
// UIDs, a resync) and checks it against the mailbox it describes: the same
// count, and each known UID the true one.
func TestSeqMapModel(t *testing.T) {
	rng := rand.New(rand.NewSource(20))
	for round := 0; round < 20; round++ {
		var m seqMap
		var truth []imap.UID
		next := imap.UID(1)
		check := func(op string) {
			t.Helper()
			if m.count() != uint64(len(truth)) {
				t.Fatalf("round %d after %s: count %d, want %d", round, op, m.count(), len(truth))
			}
			for i, u := range truth {
				if got := m.uidOf(uint32(i + 1)); got != 0 && got != u {
					t.Fatalf("round %d after %s: seq %d has UID %d, want %d", round, op, i+1, got, u)
				}
			}
		}
		for step := 0; step < 300; step++ {
			switch op := rng.Intn(6); {
			case op == 0: // new messages
				k := rng.Intn(40)
				for i := 0; i < k; i++ {
					truth = append(truth, next)
					next += imap.UID(1 + rng.Intn(3))
				}
				m.setCount(uint64(len(truth)))
				check("exists")
			case op == 1 && len(truth) > 0:
				s := rng.Intn(len(truth))
				got := m.expunge(uint32(s + 1))
				if got != 0 && got != truth[s] {
					t.Fatalf("expunge seq %d returned UID %d, want %d", s+1, got, truth[s])
				}
				truth = append(truth[:s], truth[s+1:]...)
				check("expunge")
			case op == 2 && len(truth) > 0:
				s := rng.Intn(len(truth))
				for i := s; i < min(len(truth), s+rng.Intn(20)); i++ {
					m.setUID(uint32(i+1), truth[i])
				}
				check("fetch")
			case op == 3 && len(truth) > 0:
				// VANISHED of UIDs the map knows: a range from one known to
				// another (the unknown ones between go too).
				a, b := rng.Intn(len(truth)), rng.Intn(len(truth))
				if a > b {
					a, b = b, a
				}
				if m.uidOf(uint32(a+1)) == 0 || m.uidOf(uint32(b+1)) == 0 {
					continue
				}
				m.vanish(imap.UIDSet{{Start: uint32(truth[a]), Stop: uint32(truth[b])}, {Start: uint32(next + 5), Stop: uint32(next + 9)}})
				truth = append(truth[:a], truth[b+1:]...)
				check("vanish")
			case op == 4:
				set := make([]imap.NumRange, len(truth))
				for i, u := range truth {
					set[i] = imap.NumRange{Start: uint32(u), Stop: uint32(u)}
				}
				rng.Shuffle(len(set), func(i, j int) { set[i], set[j] = set[j], set[i] })
				if !m.setAll(set) {
					t.Fatal("setAll refused the true UIDs")
				}
				check("sync")
				for i, u := range truth {
					if m.uidOf(uint32(i+1)) != u {
						t.Fatalf("after sync seq %d unknown", i+1)
					}
				}
			case op == 5 && len(truth) > 0:
				k := rng.Intn(len(truth) + 1)
				truth = truth[:k]
				m.setCount(uint64(k))
				check("shrink")
			}
		}
	}
}

// TestSeqMapContradiction: a FETCH UID that contradicts the map makes it
// forget every UID; the count stays.
func TestSeqMapContradiction(t *testing.T) {
	var m seqMap
	m.setAll([]imap.NumRange{{Start: 1, Stop: 100}})
	m.setUID(50, 7) // 7 is seq 7's UID: out of order
	if m.count() != 100 || m.uidOf(1) != 0 || m.uidOf(50) != 0 {
		t.Fatalf("count %d, uid(1) %d, uid(50) %d", m.count(), m.uidOf(1), m.uidOf(50))
	}
	m.setUID(3, 30)
	m.setUID(2, 40) // out of order with seq 3
	if m.uidOf(3) != 0 || m.uidOf(2) != 0 {
		t.Fatal("out-of-order UIDs kept")
	}
}
