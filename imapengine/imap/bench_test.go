package imap

import (
	"fmt"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// benchMessages is the number of FETCH lines in the envelope benchmark.
const benchMessages = 10_000

// envelopeLines frames benchMessages FETCH responses with envelopes.
func envelopeLines(b *testing.B) []*imapwire.Response {
	out := make([]*imapwire.Response, benchMessages)
	for i := range out {
		raw := fmt.Sprintf("* %d FETCH (FLAGS (\\Seen) UID %d RFC822.SIZE 4321 ENVELOPE "+
			"(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"Re: meeting notes number %d\" "+
			"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "+
			"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) "+
			"((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL "+
			"\"<B27397-0100000@cac.washington.edu>\" \"<msg%d@cac.washington.edu>\"))\r\n", i+1, i+1, i, i)
		out[i] = resp(b, raw)
	}
	return out
}

func BenchmarkParseFetchEnvelope(b *testing.B) {
	lines := envelopeLines(b)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		m, err := ParseFetch(lines[n%benchMessages], imapwire.Limits{})
		if err != nil || m.Err != nil || m.Envelope == nil {
			b.Fatal(err, m.Err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
