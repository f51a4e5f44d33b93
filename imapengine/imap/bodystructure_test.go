package imap

import (
	"errors"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// fetchBody parses "* 1 FETCH (BODYSTRUCTURE <body>)".
func fetchBody(t *testing.T, body string) *BodyStructure {
	t.Helper()
	m, err := ParseFetch(resp(t, "* 1 FETCH (BODYSTRUCTURE "+body+")\r\n"), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if m.Err != nil {
		t.Fatalf("Message.Err: %v", m.Err)
	}
	return m.BodyStructure
}

// partNumbers lists "number type/subtype" of every part in Walk order.
func partNumbers(b *BodyStructure) string {
	var out []string
	b.Walk(func(p *BodyStructure) bool {
		out = append(out, p.PartNumber+" "+p.MediaType())
		return true
	})
	return strings.Join(out, ", ")
}

func TestBodyStructure(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		parts string
		check func(t *testing.T, b *BodyStructure)
	}{
		{
			"RFC 3501 multipart/mixed",
			`(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")`,
			" multipart/mixed, 1 text/plain, 2 text/plain",
			func(t *testing.T, b *BodyStructure) {
				p := b.Parts[1]
				if p.ID != "<960723163407.20117h@cac.washington.edu>" || p.Description != "Compiler diff" ||
					p.Encoding != "base64" || p.Size != 4554 || p.Lines != 73 || p.Filename() != "cc.diff" {
					t.Errorf("%+v", p)
				}
				if p.IsAttachment() {
					t.Errorf("text part with name counted as attachment")
				}
			},
		},
		{
			"Gmail multipart/mixed with RFC 2231 attachment",
			`((("text" "plain" ("charset" "UTF-8") NIL NIL "quoted-printable" 120 4 NIL NIL NIL NIL)` +
				`("text" "html" ("charset" "UTF-8") NIL NIL "quoted-printable" 980 20 NIL NIL NIL NIL) "alternative" ("boundary" "000000000000a1") NIL NIL NIL)` +
				`("application" "pdf" ("name*0*" "UTF-8''%E2%82%AC%20report" "name*1" " 2024.pdf") "<f_lx1>" NIL "base64" 52000 NIL ` +
				`("attachment" ("filename*0*" "UTF-8''%E2%82%AC%20report" "filename*1" " 2024.pdf")) NIL NIL) "mixed" ("boundary" "000000000000a2") NIL NIL NIL)`,
			" multipart/mixed, 1 multipart/alternative, 1.1 text/plain, 1.2 text/html, 2 application/pdf",
			func(t *testing.T, b *BodyStructure) {
				if b.Params["boundary"] != "000000000000a2" || b.Parts[0].Params["boundary"] != "000000000000a1" {
					t.Errorf("boundaries %v %v", b.Params, b.Parts[0].Params)
				}
				pdf := b.Parts[1]
				if pdf.Filename() != "€ report 2024.pdf" || pdf.Params["name"] != "€ report 2024.pdf" || !pdf.IsAttachment() || pdf.Disposition != "attachment" {
					t.Errorf("pdf %+v", pdf)
				}
				var atts []string
				b.Walk(func(p *BodyStructure) bool {
					if p.IsAttachment() {
						atts = append(atts, p.PartNumber)
					}
					return true
				})
				if strings.Join(atts, ",") != "2" {
					t.Errorf("attachments %v", atts)
				}
			},
		},
		{
			"RFC 2231 charset Latin-1 and extended single value",
			`("image" "png" ("name*" "iso-8859-1'de'Gr%FC%DFe.png") NIL NIL "base64" 10 NIL ("inline" ("filename" "=?UTF-8?Q?Gr=C3=BC=C3=9Fe.png?=")) "de" "cid:x")`,
			"1 image/png",
			func(t *testing.T, b *BodyStructure) {
				if b.Params["name"] != "Grüße.png" || b.DispositionParams["filename"] != "Grüße.png" || b.IsAttachment() {
					t.Errorf("%+v", b)
				}
				if len(b.Language) != 1 || b.Language[0] != "de" || b.Location != "cid:x" || b.Lossy {
					t.Errorf("%+v", b)
				}
			},
		},
		{
			"message/rfc822 inside multipart",
			`(("text" "plain" NIL NIL NIL "7bit" 10 1)("message" "rfc822" NIL NIL NIL "7bit" 300 ` +
				`(NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) (("text" "plain" NIL NIL NIL "7bit" 5 1)("image" "gif" NIL NIL NIL "base64" 50) "mixed") 12) "mixed")`,
			" multipart/mixed, 1 text/plain, 2 message/rfc822, 2 multipart/mixed, 2.1 text/plain, 2.2 image/gif",
			func(t *testing.T, b *BodyStructure) {
				m := b.Parts[1]
				if m.Envelope == nil || m.Envelope.Subject != "inner" || m.Lines != 12 {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			"message/rfc822 single-part body",
			`("message" "rfc822" NIL NIL NIL "7bit" 30 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" NIL NIL NIL "7bit" 5 1) 3 NIL ("attachment" NIL) NIL)`,
			"1 message/rfc822, 1.1 text/plain",
			func(t *testing.T, b *BodyStructure) {
				if b.Disposition != "attachment" || b.Lines != 3 {
					t.Errorf("%+v", b)
				}
			},
		},
		{
			"unknown charset and bad UTF-8 are lossy",
			`("application" "octet-stream" ("name*" "x-klingon''a%FFb" "x" "caf` + "\xe9" + `") NIL NIL "base64" 10)`,
			"1 application/octet-stream",
			func(t *testing.T, b *BodyStructure) {
				if !b.Lossy || b.Params["name"] != "a\uFFFDb" || b.Params["x"] != "caf\uFFFD" {
					t.Errorf("%+v", b)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := fetchBody(t, tt.body)
			if got := partNumbers(b); got != tt.parts {
				t.Errorf("parts %q, want %q", got, tt.parts)
			}
			tt.check(t, b)
		})
	}
}

// nestedMessage builds a message/rfc822 chain depth levels deep.
func nestedMessage(depth int) string {
	body := `("text" "plain" NIL NIL NIL "7bit" 1 1)`
	for i := 0; i < depth; i++ {
		body = `("message" "rfc822" NIL NIL NIL "7bit" 100 (NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL) ` + body + ` 5)`
	}
	return body
}

func TestBodyStructureDeepNesting(t *testing.T) {
	b := fetchBody(t, nestedMessage(40))
	n := 0
	last := b
	b.Walk(func(p *BodyStructure) bool { n++; last = p; return true })
	if n != 41 || last.MediaType() != "text/plain" || last.PartNumber != "1"+strings.Repeat(".1", 40) {
		t.Errorf("%d parts, last %q %q", n, last.MediaType(), last.PartNumber)
	}
	m, err := ParseFetch(resp(t, "* 1 FETCH (UID 4 BODYSTRUCTURE "+nestedMessage(200)+")\r\n"), testLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(m.Err, imapwire.ErrTooDeep) || m.UID != 4 {
		t.Errorf("200 levels: Err %v UID %d", m.Err, m.UID)
	}
}

func TestBodyStructureWalkSkip(t *testing.T) {
	b := fetchBody(t, `(("text" "plain" NIL NIL NIL "7bit" 1 1)(("text" "plain" NIL NIL NIL "7bit" 1 1) "alternative") "mixed")`)
	var seen []string
	b.Walk(func(p *BodyStructure) bool {
		seen = append(seen, p.PartNumber)
		return p.Subtype != "alternative"
	})
	if strings.Join(seen, ",") != ",1,2" {
		t.Errorf("seen %v", seen)
	}
}
