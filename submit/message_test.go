package submit

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestBuildRefusesInjection: CR, LF or NUL in any field that reaches a
// header is refused, never escaped or passed on.
func TestBuildRefusesInjection(t *testing.T) {
	base := func() *Message {
		return &Message{From: Address{"A", "a@example.test"}, To: []Address{{"B", "b@example.test"}}, Subject: "s", Text: "t"}
	}
	evil := []string{"x\r\nBcc: victim@example.test", "x\nX-Injected: 1", "x\rY", "x\x00y"}
	cases := map[string]func(m *Message, v string){
		"subject":     func(m *Message, v string) { m.Subject = v },
		"from name":   func(m *Message, v string) { m.From.Name = v },
		"from email":  func(m *Message, v string) { m.From.Email = "a@example.test" + v },
		"to name":     func(m *Message, v string) { m.To[0].Name = v },
		"cc email":    func(m *Message, v string) { m.Cc = []Address{{"", v + "@example.test"}} },
		"reply-to":    func(m *Message, v string) { m.ReplyTo = []Address{{v, "r@example.test"}} },
		"in-reply-to": func(m *Message, v string) { m.InReplyTo = "id" + v + "@example.test" },
		"references":  func(m *Message, v string) { m.References = []string{"id" + v + "@example.test"} },
		"message-id":  func(m *Message, v string) { m.MessageID = "id" + v + "@example.test" },
		"filename":    func(m *Message, v string) { m.Attachments = []Attachment{{Filename: v, Body: strings.NewReader("")}} },
		"content type": func(m *Message, v string) {
			m.Attachments = []Attachment{{ContentType: "text/plain" + v, Body: strings.NewReader("")}}
		},
		"content id": func(m *Message, v string) {
			m.Attachments = []Attachment{{ContentID: "c" + v + "@x", Inline: true, Body: strings.NewReader("")}}
		},
	}
	for name, set := range cases {
		for _, v := range evil {
			m := base()
			set(m, v)
			var buf bytes.Buffer
			if _, err := Build(&buf, m); !errors.Is(err, ErrBadHeader) {
				t.Errorf("%s = %q: %v, want ErrBadHeader", name, v, err)
			}
			if buf.Len() != 0 {
				t.Errorf("%s = %q: %d bytes written", name, v, buf.Len())
			}
		}
	}
}

func TestBuildStructure(t *testing.T) {
	m := &Message{From: Address{"Zoë", "a@example.test"}, To: []Address{{"", "b@example.test"}},
		Bcc: []Address{{"Secret", "s@example.test"}}, Subject: "Grüße", Text: "hi\n", InReplyTo: "p1@example.test",
		References: []string{"p0@example.test", "p1@example.test"}}
	var buf bytes.Buffer
	id, err := Build(&buf, m)
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"Message-Id: <" + id + ">\r\n", "In-Reply-To: <p1@example.test>\r\n",
		"References: <p0@example.test> <p1@example.test>\r\n", "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n",
		"From: =?utf-8?q?Zo=C3=AB?= <a@example.test>\r\n", "Content-Type: text/plain; charset=utf-8\r\n", "Date: ", "Mime-Version: 1.0\r\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "s@example.test") || strings.Contains(out, "Secret") || strings.Contains(strings.ToLower(out), "bcc") {
		t.Errorf("Bcc written:\n%s", out)
	}
	if !strings.HasSuffix(id, "@example.test") {
		t.Errorf("Message-ID %q not in the sender's domain", id)
	}
	if env := m.Envelope(); len(env.To) != 2 || env.To[1] != "s@example.test" {
		t.Errorf("envelope %v", env)
	}
	if strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
		t.Errorf("bare LF in output")
	}
}
