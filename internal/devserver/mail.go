package devserver

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// BannerWidth and BannerHeight are the size of the banner image every HTML
// sample carries inline as a data: URI (bannerDataURI): it shows without a
// network fetch, so no Content-Security-Policy blocks it and no "remote
// images" prompt hides it.
const (
	BannerWidth  = 120
	BannerHeight = 40
)

// bannerDataURI is the HTML samples' banner, a PNG gradient as a data: URI
// (about 300 bytes, built once).
var bannerDataURI = sync.OnceValue(func() string {
	img := image.NewRGBA(image.Rect(0, 0, BannerWidth, BannerHeight))
	for y := range BannerHeight {
		for x := range BannerWidth {
			img.Set(x, y, color.RGBA{0x3b, uint8(0x82 + x/3), uint8(0xf6 - y), 0xff})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img) // encoding an in-memory RGBA image into a buffer cannot fail
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
})

// base64LineLength is the line length of base64 bodies (RFC 2045 §6.8 allows 76).
const base64LineLength = 76

// layout says which MIME tree a message gets.
type layout int

const (
	layoutAlternative layout = iota // multipart/alternative: text + HTML
	layoutPlain                     // a single text/plain part
	layoutHTML                      // a single text/html part (junk)
)

// attachment is one attached file.
type attachment struct {
	name, contentType string
	data              []byte
}

// mailSpec describes one message to build.
type mailSpec struct {
	from        person
	to, cc      []person
	subject     string
	paras       []string
	signature   string
	date        time.Time
	messageID   string
	inReplyTo   string
	layout      layout
	attachments []attachment
}

// build renders spec as an RFC 5322 message with CRLF line endings. The
// boundaries come from rng, so the output is a function of spec and rng.
func build(spec *mailSpec, rng *rand.Rand) []byte {
	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteString("\r\n")
	}
	header("Date", spec.date.Format(time.RFC1123Z))
	header("From", formatAddress(spec.from))
	header("To", formatAddressList(spec.to))
	if len(spec.cc) > 0 {
		header("Cc", formatAddressList(spec.cc))
	}
	header("Subject", encodeWord(spec.subject))
	header("Message-ID", spec.messageID)
	if spec.inReplyTo != "" {
		header("In-Reply-To", spec.inReplyTo)
		header("References", spec.inReplyTo)
	}
	header("MIME-Version", "1.0")

	text := plainBody(spec)
	switch {
	case spec.layout == layoutPlain && len(spec.attachments) == 0:
		writeTextHeaders(&b, "text/plain")
		b.WriteString("\r\n")
		writeQuotedPrintable(&b, text)
	case spec.layout == layoutHTML && len(spec.attachments) == 0:
		writeTextHeaders(&b, "text/html")
		b.WriteString("\r\n")
		writeQuotedPrintable(&b, htmlBody(spec))
	default:
		writeMultipart(&b, spec, text, rng)
	}
	return b.Bytes()
}

// writeMultipart writes the Content-Type header and body of a multipart
// message: multipart/alternative for text + HTML, wrapped in multipart/mixed
// when there are attachments. Writes go to a bytes.Buffer and cannot fail.
func writeMultipart(b *bytes.Buffer, spec *mailSpec, text string, rng *rand.Rand) {
	if len(spec.attachments) == 0 {
		boundary := newBoundary(rng)
		fmt.Fprintf(b, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", boundary)
		mw := multipart.NewWriter(b)
		_ = mw.SetBoundary(boundary) // newBoundary yields valid boundaries
		writeTextPart(mw, "text/plain", text)
		writeTextPart(mw, "text/html", htmlBody(spec))
		_ = mw.Close()
		return
	}
	boundary := newBoundary(rng)
	fmt.Fprintf(b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", boundary)
	b.WriteString("This is a multi-part message in MIME format.\r\n")
	mw := multipart.NewWriter(b)
	_ = mw.SetBoundary(boundary)
	switch spec.layout {
	case layoutPlain:
		writeTextPart(mw, "text/plain", text)
	case layoutHTML:
		writeTextPart(mw, "text/html", htmlBody(spec))
	default:
		inner := newBoundary(rng)
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", fmt.Sprintf("multipart/alternative; boundary=%q", inner))
		w, _ := mw.CreatePart(h)
		am := multipart.NewWriter(w)
		_ = am.SetBoundary(inner)
		writeTextPart(am, "text/plain", text)
		writeTextPart(am, "text/html", htmlBody(spec))
		_ = am.Close()
	}
	for _, a := range spec.attachments {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", mime.FormatMediaType(a.contentType, map[string]string{"name": a.name}))
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.name}))
		h.Set("Content-Transfer-Encoding", "base64")
		w, _ := mw.CreatePart(h)
		writeBase64(w, a.data)
	}
	_ = mw.Close()
}

// writeTextPart writes one quoted-printable UTF-8 text part into mw.
func writeTextPart(mw *multipart.Writer, ctype, body string) {
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", ctype+"; charset=utf-8")
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	w, _ := mw.CreatePart(h)
	writeQuotedPrintable(w, body)
}

// writeTextHeaders writes the headers of a single-part text message.
func writeTextHeaders(b *bytes.Buffer, ctype string) {
	b.WriteString("Content-Type: " + ctype + "; charset=utf-8\r\n")
	b.WriteString("Content-Transfer-Encoding: quoted-printable\r\n")
}

// writeQuotedPrintable writes s quoted-printable encoded; its LF line breaks
// become CRLF.
func writeQuotedPrintable(w io.Writer, s string) {
	qp := quotedprintable.NewWriter(w)
	_, _ = io.WriteString(qp, s)
	_ = qp.Close()
	_, _ = io.WriteString(w, "\r\n")
}

// writeBase64 writes data base64 encoded in lines of base64LineLength.
func writeBase64(w io.Writer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > base64LineLength {
		_, _ = io.WriteString(w, enc[:base64LineLength]+"\r\n")
		enc = enc[base64LineLength:]
	}
	_, _ = io.WriteString(w, enc+"\r\n")
}

// plainBody is the text/plain rendering of spec.
func plainBody(spec *mailSpec) string {
	var b strings.Builder
	for _, p := range spec.paras {
		b.WriteString(p)
		b.WriteString("\n\n")
	}
	b.WriteString(spec.signature)
	b.WriteString("\n")
	return b.String()
}

// htmlBody is the text/html rendering of spec: inline styles and one inline (data:) image.
func htmlBody(spec *mailSpec) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n")
	b.WriteString("<body style=\"font-family: Helvetica, Arial, sans-serif; color: #1f2937; line-height: 1.5;\">\n")
	b.WriteString("<div style=\"max-width: 560px; padding: 16px; border-left: 4px solid #3b82f6;\">\n")
	for _, p := range spec.paras {
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(p), "\n", "<br>\n"))
		b.WriteString("</p>\n")
	}
	fmt.Fprintf(&b, "<p><img src=\"%s\" alt=\"banner\" width=\"%d\" height=\"%d\"></p>\n", bannerDataURI(), BannerWidth, BannerHeight)
	b.WriteString("<p style=\"color: #6b7280; font-size: 13px;\">")
	b.WriteString(strings.ReplaceAll(html.EscapeString(spec.signature), "\n", "<br>\n"))
	b.WriteString("</p>\n</div>\n</body></html>\n")
	return b.String()
}

// formatAddress renders p as an RFC 5322 mailbox, its name as an RFC 2047
// word when it is not ASCII.
func formatAddress(p person) string {
	return (&mail.Address{Name: p.name, Address: p.addr}).String()
}

// formatAddressList renders ps comma-separated.
func formatAddressList(ps []person) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = formatAddress(p)
	}
	return strings.Join(parts, ", ")
}

// encodeWord encodes s as RFC 2047 words when it is not ASCII: Q encoding for
// mostly-Latin text (German), B encoding when most bytes are non-ASCII
// (Japanese).
func encodeWord(s string) string {
	high := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			high++
		}
	}
	if high == 0 {
		return s
	}
	if high*3 > len(s) {
		return mime.BEncoding.Encode("utf-8", s)
	}
	return mime.QEncoding.Encode("utf-8", s)
}

// newBoundary returns a MIME boundary drawn from rng.
func newBoundary(rng *rand.Rand) string {
	return fmt.Sprintf("=_devserver_%016x", rng.Uint64())
}

// newMessageID returns a Message-ID drawn from rng.
func newMessageID(rng *rand.Rand) string {
	return fmt.Sprintf("<%016x.%08x@imapbridge.example>", rng.Uint64(), rng.Uint32())
}

// samplePDF returns a small PDF-like binary: a PDF header and trailer around
// random bytes (not a renderable document, but typed and sized like one).
func samplePDF(rng *rand.Rand) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\nstream\n")
	n := 512 + rng.IntN(1024)
	for range n {
		b.WriteByte(byte(rng.UintN(256)))
	}
	b.WriteString("\nendstream\n%%EOF\n")
	return b.Bytes()
}

// samplePNG returns a small valid PNG: a gradient in colours drawn from rng.
func samplePNG(rng *rand.Rand) []byte {
	const side = 24
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	r, g, bl := uint8(rng.UintN(256)), uint8(rng.UintN(256)), uint8(rng.UintN(256))
	for y := range side {
		for x := range side {
			img.Set(x, y, color.RGBA{r + uint8(x*4), g + uint8(y*4), bl, 0xff})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img) // encoding an in-memory RGBA image into a buffer cannot fail
	return b.Bytes()
}
