package devserver

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// Seeded folder sizes. INBOX holds about 40 messages, as the issue asks.
const (
	inboxSeedCount    = 40
	sentSeedCount     = 8
	draftsSeedCount   = 2
	archiveSeedCount  = 12
	trashSeedCount    = 3
	junkSeedCount     = 4
	projectsSeedCount = 2
	bridgeSeedCount   = 6
	// unseenTail is how many of the newest INBOX messages stay unread.
	unseenTail = 6
)

// seedSpan is how far back the seeded mail's dates reach.
const seedSpan = 28 * 24 * time.Hour

// folder is one mailbox of the seeded tree.
type folder struct {
	name       string
	specialUse imap.MailboxAttr // "" for none
	count      int
	kind       folderKind
}

// folderKind says what sort of mail a folder gets.
type folderKind int

const (
	kindInbox folderKind = iota
	kindSent
	kindDrafts
	kindArchive
	kindTrash
	kindJunk
	kindProjects
)

// folders is the seeded tree, parents before children.
var folders = []folder{
	{"INBOX", "", inboxSeedCount, kindInbox},
	{"Sent", imap.MailboxAttrSent, sentSeedCount, kindSent},
	{"Drafts", imap.MailboxAttrDrafts, draftsSeedCount, kindDrafts},
	{"Archive", imap.MailboxAttrArchive, archiveSeedCount, kindArchive},
	{"Trash", imap.MailboxAttrTrash, trashSeedCount, kindTrash},
	{"Junk", imap.MailboxAttrJunk, junkSeedCount, kindJunk},
	{"Projects", "", projectsSeedCount, kindProjects},
	{"Projects/Bridge", "", bridgeSeedCount, kindProjects},
}

// sample is one generated message with the flags and internal date to store
// it with.
type sample struct {
	raw   []byte
	date  time.Time
	flags []imap.Flag
}

// generator makes sample mail. It is deterministic: the same seed, user and
// clock give the same bytes. It is not safe for concurrent use.
type generator struct {
	rng       *rand.Rand
	me        person
	delivered int // messages delivered so far
	refID     []string
}

// newGenerator returns a generator for the mailbox owner user.
func newGenerator(seed int64, user string) *generator {
	addr := user
	if !strings.Contains(addr, "@") {
		addr += "@example.com"
	}
	return &generator{
		rng: rand.New(rand.NewPCG(uint64(seed), 0x696d617062726467)), // "imapbrdg"
		me:  person{"Demo User", addr},
	}
}

// folder returns the seeded messages of f, oldest first, dated within
// seedSpan before now.
func (g *generator) folder(f folder, now time.Time) []sample {
	dates := g.dates(f.count, now)
	out := make([]sample, 0, f.count)
	for i, d := range dates {
		out = append(out, g.message(f.kind, i, f.count, d))
	}
	return out
}

// dates returns n ascending dates spread over seedSpan before now.
func (g *generator) dates(n int, now time.Time) []time.Time {
	out := make([]time.Time, n)
	if n == 0 {
		return out
	}
	step := seedSpan / time.Duration(n)
	start := now.Add(-seedSpan)
	for i := range out {
		jitter := time.Duration(g.rng.Int64N(int64(step) / 2))
		out[i] = start.Add(time.Duration(i)*step + jitter).Truncate(time.Second)
	}
	return out
}

// message makes message i of n in a folder of kind k.
func (g *generator) message(k folderKind, i, n int, date time.Time) sample {
	spec := &mailSpec{date: date, messageID: newMessageID(g.rng), to: []person{g.me}}
	var flags []imap.Flag
	var t topic
	switch k {
	case kindSent, kindDrafts:
		t = pick(g.rng, topics)
		spec.from = g.me
		spec.to = []person{pick(g.rng, correspondents[:8])}
		spec.signature = fmt.Sprintf(pick(g.rng, signatures), g.me.name)
		if k == kindSent {
			spec.subject = replySubject(t.subject)
			spec.inReplyTo = g.pastID()
			flags = []imap.Flag{imap.FlagSeen}
		} else {
			spec.subject = t.subject
			flags = []imap.Flag{imap.FlagDraft, imap.FlagSeen}
		}
	case kindJunk:
		t = pick(g.rng, junkTopics)
		spec.from = pick(g.rng, spammers)
		spec.layout = layoutHTML
		spec.signature = "Unsubscribe at any time."
		if g.rng.IntN(2) == 0 {
			flags = []imap.Flag{imap.FlagSeen}
		}
	case kindProjects:
		t = projectTopics[i%len(projectTopics)]
		spec.from = pick(g.rng, correspondents[:8])
		spec.cc = []person{pick(g.rng, correspondents[:8])}
		flags = []imap.Flag{imap.FlagSeen}
	default: // inbox, archive, trash
		t = pick(g.rng, topics)
		spec.from = pick(g.rng, correspondents)
		if g.rng.IntN(4) == 0 {
			spec.cc = []person{pick(g.rng, correspondents[:8])}
		}
		flags = g.readerFlags(k, i, n)
	}
	if spec.subject == "" {
		spec.subject = t.subject
	}
	spec.paras = t.paras
	if spec.signature == "" {
		spec.signature = fmt.Sprintf(pick(g.rng, signatures), spec.from.name)
	}
	if k != kindJunk && g.rng.IntN(7) == 0 {
		spec.layout = layoutPlain
	}
	if strings.HasPrefix(spec.subject, "Re: ") && spec.inReplyTo == "" {
		spec.inReplyTo = g.pastID()
	}
	spec.attachments = g.attachments(t.subject)
	g.refID = append(g.refID, spec.messageID)
	return sample{raw: build(spec, g.rng), date: date, flags: flags}
}

// readerFlags are the flags of a received message i of n: the newest
// unseenTail unread, most others read, a few flagged or answered.
func (g *generator) readerFlags(k folderKind, i, n int) []imap.Flag {
	var flags []imap.Flag
	if k != kindInbox || i < n-unseenTail {
		if k != kindInbox || g.rng.IntN(10) != 0 {
			flags = append(flags, imap.FlagSeen)
		}
		if g.rng.IntN(5) == 0 {
			flags = append(flags, imap.FlagAnswered)
		}
	}
	if g.rng.IntN(8) == 0 {
		flags = append(flags, imap.FlagFlagged)
	}
	return flags
}

// attachments returns the files a message on subject carries: documents get
// a PDF-like file, photos a PNG, some messages both.
func (g *generator) attachments(subject string) []attachment {
	lower := strings.ToLower(subject)
	var out []attachment
	switch {
	case strings.Contains(lower, "invoice"):
		out = append(out, attachment{"invoice-2026-0412.pdf", "application/pdf", samplePDF(g.rng)})
	case strings.Contains(lower, "contract"), strings.Contains(lower, "agenda"):
		out = append(out, attachment{"notes.pdf", "application/pdf", samplePDF(g.rng)})
	case strings.Contains(lower, "photos"):
		out = append(out, attachment{"ridge.png", "image/png", samplePNG(g.rng)})
	case strings.Contains(subject, "議事録"):
		out = append(out, attachment{"議事録.pdf", "application/pdf", samplePDF(g.rng)})
	case strings.Contains(lower, "benchmark"):
		out = append(out,
			attachment{"latency.png", "image/png", samplePNG(g.rng)},
			attachment{"report.pdf", "application/pdf", samplePDF(g.rng)})
	}
	return out
}

// live returns a new unread message dated at now, for delivery to INBOX.
func (g *generator) live(now time.Time) sample {
	g.delivered++
	t := pick(g.rng, liveTopics)
	subject := t.subject
	if strings.Contains(subject, "%d") {
		subject = fmt.Sprintf(subject, 1000+g.delivered)
	}
	from := pick(g.rng, correspondents)
	spec := &mailSpec{
		from:      from,
		to:        []person{g.me},
		subject:   subject,
		paras:     t.paras,
		signature: fmt.Sprintf(pick(g.rng, signatures), from.name),
		date:      now.Truncate(time.Second),
		messageID: newMessageID(g.rng),
	}
	if g.rng.IntN(5) == 0 {
		spec.layout = layoutPlain
	}
	return sample{raw: build(spec, g.rng), date: spec.date}
}

// pastID returns the Message-ID of an earlier generated message, or a fresh
// one when there is none.
func (g *generator) pastID() string {
	if len(g.refID) == 0 {
		return newMessageID(g.rng)
	}
	return g.refID[g.rng.IntN(len(g.refID))]
}

// replySubject prefixes "Re: " unless subject already has it.
func replySubject(subject string) string {
	if strings.HasPrefix(subject, "Re: ") {
		return subject
	}
	return "Re: " + subject
}

// pick returns a random element of a non-empty slice.
func pick[T any](rng *rand.Rand, s []T) T {
	return s[rng.IntN(len(s))]
}
