package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Corpus shape: the sizes of issue 3 item 7 (10,000 messages of 2–20 KB,
// some with 100 KB–1 MB attachments, about 260 MB in all).
const (
	// DefaultCount is the number of messages in the corpus.
	DefaultCount = 10_000
	// DefaultSeed seeds the generator; the same seed gives the same bytes.
	DefaultSeed = 20260301
	// MinTextSize and MaxTextSize bound a message without its attachment.
	MinTextSize = 2 << 10
	MaxTextSize = 20 << 10
	// MinAttachSize and MaxAttachSize bound an attachment before base64.
	MinAttachSize = 100 << 10
	MaxAttachSize = 1 << 20
	// AttachPerMille is how many messages in a thousand carry an attachment.
	AttachPerMille = 20
	// lineWidth is the longest body line written, CRLF excluded.
	lineWidth = 76
)

// baseDate is the Date of message 0; each next message is a few minutes later.
var baseDate = time.Date(2025, time.March, 3, 8, 0, 0, 0, time.FixedZone("", 3600))

var (
	firstNames = []string{"Alice", "Bob", "Carol", "Dmitri", "Eve", "François", "Grace", "Hiroshi", "Ingrid", "José", "Kateřina", "Liam", "Mei", "Noor", "Oskar", "Priya"}
	lastNames  = []string{"Archer", "Baker", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ivanova", "Jensen", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Petrov"}
	domains    = []string{"example.org", "example.com", "mail.example.net", "lists.example.edu"}
	words      = strings.Fields(`the of and to in is that for it as with was on be by this are from at or
		an have not which but had they you were their one all we can her has there been if more when
		will would who so no she other its may these about than into after first two any time some could
		them see only over new also most report meeting budget quarter release server mailbox message
		invoice schedule review draft update thread archive weekly notes agenda proposal deadline`)
	flagSets = []string{"", `\Seen`, `\Seen \Answered`, `\Flagged`, `\Seen \Flagged`, "$Label1"}
)

// Message is one generated message and the APPEND arguments that go with it.
type Message struct {
	Flags    string    // APPEND flag list contents, e.g. `\Seen \Flagged`
	Date     time.Time // APPEND internal date
	Body     []byte    // the RFC 5322 message, CRLF line ends
	Attached bool      // it carries an attachment
}

// Generate returns message i (0-based) of the corpus seeded by seed. Each
// message has its own random stream, so any message can be made alone.
func Generate(seed uint64, i int) Message {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	date := baseDate.Add(time.Duration(i) * 7 * time.Minute)
	var b bytes.Buffer
	from := address(r)
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("Return-Path", "<"+from.addr+">")
	hdr("Date", date.Format(time.RFC1123Z))
	hdr("From", from.String())
	hdr("To", address(r).String())
	if r.IntN(3) == 0 {
		hdr("Cc", address(r).String()+", "+address(r).String())
	}
	hdr("Subject", subject(r, i))
	hdr("Message-ID", fmt.Sprintf("<%d.%d@bench.imapbridge.test>", i, seed))
	if i > 0 && r.IntN(2) == 0 {
		hdr("In-Reply-To", fmt.Sprintf("<%d.%d@bench.imapbridge.test>", r.IntN(i), seed))
	}
	hdr("MIME-Version", "1.0")
	attach := r.IntN(1000) < AttachPerMille
	target := MinTextSize + r.IntN(MaxTextSize-MinTextSize+1)
	boundary := fmt.Sprintf("=_bench_%d_%x", i, r.Uint32())
	if attach {
		hdr("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		b.WriteString("\r\n--" + boundary + "\r\n")
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n\r\n")
	} else {
		hdr("Content-Type", "text/plain; charset=us-ascii")
		b.WriteString("\r\n")
	}
	text(r, &b, target)
	if attach {
		n := MinAttachSize + r.IntN(MaxAttachSize-MinAttachSize+1)
		raw := make([]byte, n)
		for k := range raw {
			raw[k] = byte(r.Uint32())
		}
		fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: application/octet-stream\r\n"+
			"Content-Disposition: attachment; filename=\"data-%05d.bin\"\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n", boundary, i)
		enc := base64.StdEncoding.EncodeToString(raw)
		for len(enc) > 0 {
			k := min(lineWidth, len(enc))
			b.WriteString(enc[:k])
			b.WriteString("\r\n")
			enc = enc[k:]
		}
		b.WriteString("--" + boundary + "--\r\n")
	}
	return Message{Flags: flagSets[r.IntN(len(flagSets))], Date: date, Body: b.Bytes(), Attached: attach}
}

type addr struct{ name, addr string }

// String renders the address as a From/To value, the display name quoted or,
// when it is not ASCII, as an RFC 2047 encoded word.
func (a addr) String() string {
	for _, c := range a.name {
		if c > 0x7e {
			return "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(a.name)) + "?= <" + a.addr + ">"
		}
	}
	return `"` + a.name + `" <` + a.addr + ">"
}

func address(r *rand.Rand) addr {
	f, l := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	local := strings.ToLower(fmt.Sprintf("user%d", r.IntN(500)))
	return addr{name: f + " " + l, addr: local + "@" + domains[r.IntN(len(domains))]}
}

// subject is a few words; one in four is an RFC 2047 Q-encoded word in
// ISO-8859-1, so typed clients have words to decode.
func subject(r *rand.Rand, i int) string {
	n := 3 + r.IntN(6)
	ws := make([]string, n)
	for k := range ws {
		ws[k] = words[r.IntN(len(words))]
	}
	s := strings.Join(ws, " ")
	if r.IntN(4) == 0 {
		return fmt.Sprintf("=?ISO-8859-1?Q?R=E9union_%d?= %s", i, s)
	}
	return fmt.Sprintf("[%d] %s", i, s)
}

// text writes lines of words until the message holds about target bytes.
func text(r *rand.Rand, b *bytes.Buffer, target int) {
	line := make([]byte, 0, lineWidth+2)
	for b.Len() < target {
		w := words[r.IntN(len(words))]
		if len(line)+1+len(w) > lineWidth {
			b.Write(append(line, '\r', '\n'))
			line = line[:0]
			continue
		}
		if len(line) > 0 {
			line = append(line, ' ')
		}
		line = append(line, w...)
	}
	if len(line) > 0 {
		b.Write(append(line, '\r', '\n'))
	}
}
