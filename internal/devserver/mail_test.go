package devserver

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// fixedNow is the clock of the generator tests.
var fixedNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// generateAll returns every seeded message of a generator for seed, by folder.
func generateAll(seed int64) map[string][]sample {
	g := newGenerator(seed, DefaultUser)
	out := map[string][]sample{}
	for _, f := range folders {
		out[f.name] = g.folder(f, fixedNow)
	}
	out["live"] = []sample{g.live(fixedNow), g.live(fixedNow)}
	return out
}

func TestGeneratorDeterministic(t *testing.T) {
	a, b, c := generateAll(1), generateAll(1), generateAll(2)
	same := true
	for name := range a {
		for i := range a[name] {
			if !bytes.Equal(a[name][i].raw, b[name][i].raw) || !a[name][i].date.Equal(b[name][i].date) {
				t.Fatalf("%s[%d] differs between runs with the same seed", name, i)
			}
			if !bytes.Equal(a[name][i].raw, c[name][i].raw) {
				same = false
			}
		}
	}
	if same {
		t.Fatal("seeds 1 and 2 gave identical mail")
	}
}

// partInfo is what walk found in one message.
type partInfo struct {
	types       []string
	attachments []string
	html        string
}

// walk parses a message's MIME tree, failing the test on malformed input.
func walk(t *testing.T, header map[string][]string, body io.Reader, info *partInfo) {
	t.Helper()
	ctype := "text/plain"
	if v := header["Content-Type"]; len(v) > 0 {
		ctype = v[0]
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", ctype, err)
	}
	info.types = append(info.types, mt)
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", mt, err)
			}
			walk(t, p.Header, p, info)
		}
	}
	if d := header["Content-Disposition"]; len(d) > 0 {
		_, dp, err := mime.ParseMediaType(d[0])
		if err != nil {
			t.Fatalf("Content-Disposition %q: %v", d[0], err)
		}
		info.attachments = append(info.attachments, dp["filename"])
	}
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if mt == "text/html" {
		if v := header["Content-Transfer-Encoding"]; len(v) > 0 && strings.EqualFold(v[0], "quoted-printable") {
			if data, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(data))); err != nil {
				t.Fatal(err)
			}
		}
		info.html = string(data)
	}
}

func TestGeneratedMailIsWellFormed(t *testing.T) {
	all := generateAll(42)
	dec := new(mime.WordDecoder)
	var subjects []string
	var attachments []string
	var inlineImages, multiparts int
	for _, f := range append(folders, folder{name: "live"}) {
		msgs := all[f.name]
		if f.name != "live" && len(msgs) != f.count {
			t.Errorf("%s: %d messages, want %d", f.name, len(msgs), f.count)
		}
		for i, m := range msgs {
			if bytes.Contains(bytes.ReplaceAll(m.raw, []byte("\r\n"), nil), []byte("\n")) {
				t.Errorf("%s[%d]: bare LF", f.name, i)
			}
			for _, line := range bytes.Split(m.raw, []byte("\r\n")) {
				if len(line) > 998 {
					t.Errorf("%s[%d]: line of %d bytes", f.name, i, len(line))
				}
			}
			msg, err := mail.ReadMessage(bytes.NewReader(m.raw))
			if err != nil {
				t.Fatalf("%s[%d]: %v", f.name, i, err)
			}
			for _, h := range []string{"Date", "From", "To", "Subject", "Message-ID", "MIME-Version"} {
				if msg.Header.Get(h) == "" {
					t.Errorf("%s[%d]: no %s", f.name, i, h)
				}
			}
			if _, err := msg.Header.AddressList("From"); err != nil {
				t.Errorf("%s[%d]: From: %v", f.name, i, err)
			}
			subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
			if err != nil {
				t.Errorf("%s[%d]: Subject: %v", f.name, i, err)
			}
			subjects = append(subjects, subject)
			var info partInfo
			walk(t, msg.Header, msg.Body, &info)
			if len(info.types) > 1 {
				multiparts++
			}
			if strings.Contains(info.html, "<img src=\"data:image/png;base64,") {
				inlineImages++
			}
			if strings.Contains(info.html, "http:") || strings.Contains(info.html, "https:") {
				t.Errorf("%s[%d]: a remote reference in the HTML sample (the demo's CSP would block it)", f.name, i)
			}
			attachments = append(attachments, info.attachments...)
		}
	}
	joined := strings.Join(subjects, "\n")
	tests := []struct{ name, want string }{
		{"German subject", "Grüße aus München"},
		{"Japanese subject", "会議の議事録について"},
	}
	for _, tt := range tests {
		if !strings.Contains(joined, tt.want) {
			t.Errorf("%s: no subject contains %q", tt.name, tt.want)
		}
	}
	files := strings.Join(attachments, " ")
	for _, want := range []string{".pdf", ".png"} {
		if !strings.Contains(files, want) {
			t.Errorf("no %s attachment among %q", want, files)
		}
	}
	if inlineImages == 0 || multiparts == 0 {
		t.Errorf("inline images %d, multiparts %d", inlineImages, multiparts)
	}
}

func TestEncodeWord(t *testing.T) {
	tests := []struct{ in, prefix string }{
		{"plain ASCII", "plain ASCII"},
		{"Grüße aus München", "=?utf-8?q?"},
		{"会議の議事録について", "=?utf-8?b?"},
	}
	dec := new(mime.WordDecoder)
	for _, tt := range tests {
		got := encodeWord(tt.in)
		if !strings.HasPrefix(got, tt.prefix) {
			t.Errorf("encodeWord(%q) = %q, want prefix %q", tt.in, got, tt.prefix)
		}
		back, err := dec.DecodeHeader(got)
		if err != nil || back != tt.in {
			t.Errorf("round trip of %q = %q, %v", tt.in, back, err)
		}
	}
}
