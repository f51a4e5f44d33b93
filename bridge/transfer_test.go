package bridge

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/auth"
)

// transferMessage builds a message with nested multiparts: a QP text part,
// a multipart/related holding an HTML part and an inline base64 image with a
// Content-ID, and a base64 attachment of attSize bytes with a non-ASCII
// filename. It returns the raw message.
func transferMessage(t *testing.T, attSize int) []byte {
	t.Helper()
	var buf bytes.Buffer
	outer := multipart.NewWriter(&buf)
	fmt.Fprintf(&buf, "From: a@example.com\r\nTo: b@example.com\r\nSubject: transfer %d\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n", attSize, outer.Boundary())
	qp := func(w io.Writer, s string) {
		q := quotedprintable.NewWriter(w)
		_, _ = q.Write([]byte(s))
		_ = q.Close()
	}
	b64 := func(w io.Writer, b []byte) {
		s := base64.StdEncoding.EncodeToString(b)
		for i := 0; i < len(s); i += 76 {
			_, _ = io.WriteString(w, s[i:min(i+76, len(s))]+"\r\n")
		}
	}
	w, _ := outer.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}})
	qp(w, "Grüße — a long line "+strings.Repeat("é=", 100)+"\r\nend\r\n")
	rel := multipart.NewWriter(nil)
	w, _ = outer.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/related; boundary=" + rel.Boundary()}})
	bnd := rel.Boundary()
	rel = multipart.NewWriter(w)
	_ = rel.SetBoundary(bnd)
	hw, _ := rel.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/html; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}})
	qp(hw, `<p>logo: <img src="cid:logo@example.com"></p>`)
	img := make([]byte, 3000)
	_, _ = rand.Read(img)
	iw, _ := rel.CreatePart(textproto.MIMEHeader{"Content-Type": {"image/png"}, "Content-Transfer-Encoding": {"base64"},
		"Content-ID": {"<logo@example.com>"}, "Content-Disposition": {"inline"}})
	b64(iw, img)
	_ = rel.Close()
	att := make([]byte, attSize)
	_, _ = rand.Read(att)
	aw, _ := outer.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/pdf"}, "Content-Transfer-Encoding": {"base64"},
		"Content-Disposition": {mime.FormatMediaType("attachment", map[string]string{"filename": "Bericht Übersicht.pdf"})}})
	b64(aw, att)
	_ = outer.Close()
	return bytes.ReplaceAll(bytes.ReplaceAll(buf.Bytes(), []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

// decodedParts walks raw with mime/multipart and returns the SHA-256 of every
// leaf part's decoded bytes by IMAP part number.
func decodedParts(t *testing.T, raw []byte) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	msg, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	body := raw[bytes.Index(raw, []byte("\r\n\r\n"))+4:]
	var walk func(prefix string, ctype string, body io.Reader)
	walk = func(prefix, ctype string, body io.Reader) {
		_, params, _ := mime.ParseMediaType(ctype)
		mr := multipart.NewReader(body, params["boundary"])
		for i := 1; ; i++ {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			num := fmt.Sprint(i)
			if prefix != "" {
				num = prefix + "." + num
			}
			ct := p.Header.Get("Content-Type")
			if strings.HasPrefix(ct, "multipart/") {
				walk(num, ct, p)
				continue
			}
			var r io.Reader = p
			switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
			case "base64":
				r = base64.NewDecoder(base64.StdEncoding, p)
			case "quoted-printable":
				r = quotedprintable.NewReader(p)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("part %s: %v", num, err)
			}
			out[num] = sha256.Sum256(b)
		}
	}
	walk("", msg.Get("Content-Type"), bytes.NewReader(body))
	return out
}

// get fetches url from the harness with origin, returning status, headers, body.
func (h *harness) transfer(t *testing.T, method, path, origin string, body io.Reader, size int64) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, h.hs.URL+path, body)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if body != nil {
		req.ContentLength = size
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, append(b, "\nREAD ERROR: "+err.Error()...)
	}
	return resp, b
}

// TestDovecotDownloads: every part of 1 KiB, 1 MiB and 25 MiB messages
// downloads with the SHA-256 of Go's own decoding; the whole message as
// .eml equals Dovecot's bytes; bad tickets are refused without IMAP traffic.
func TestDovecotDownloads(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, user := openDovecot(t, h, dv, "plain", auth.CredentialPassword)
	sizes := []int{1 << 10, 1 << 20, 25 << 20}
	raws := map[int][]byte{}
	for _, n := range sizes {
		raws[n] = transferMessage(t, n)
		dv.Deliver(t, user, raws[n])
	}
	sel := c.ok(map[string]any{"op": "select", "mailbox": "INBOX"})
	uv := sel["uidValidity"]
	for i, n := range sizes {
		uid := i + 1
		want := decodedParts(t, raws[n])
		if len(want) != 4 {
			t.Fatalf("%d: %d leaf parts, want 4", n, len(want))
		}
		for part, sum := range want {
			r := c.ok(map[string]any{"op": "download", "mailbox": "INBOX", "uidValidity": uv, "uid": uid, "part": part})
			resp, body := h.transfer(t, http.MethodGet, r["url"].(string), testOrigin, nil, 0)
			if resp == nil || resp.StatusCode != 200 || sha256.Sum256(body) != sum {
				t.Fatalf("size %d part %s: status %v, %d bytes, sha mismatch", n, part, resp, len(body))
			}
			for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "no-store"} {
				if resp.Header.Get(k) != v {
					t.Fatalf("%s = %q", k, resp.Header.Get(k))
				}
			}
			if part == "3" {
				if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="Bericht _bersicht.pdf"; filename*=UTF-8''Bericht%20%C3%9Cbersicht.pdf` {
					t.Fatalf("Content-Disposition %q", cd)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" {
					t.Fatalf("Content-Type %q", ct)
				}
			}
		}
	}
	pw, _ := dv.Password(user)
	p := peer(t, dv.PlainAddr, user, pw)
	if _, err := p.Select(ctx5(t), "INBOX", true); err != nil {
		t.Fatal(err)
	}
	res, err := p.UIDFetch(ctx5(t), "1", "(BODY.PEEK[])")
	if err != nil {
		t.Fatal(err)
	}
	stored := res.Data[0].Literal()
	// The whole message, and the inline image by Content-ID.
	r := c.ok(map[string]any{"op": "download", "mailbox": "INBOX", "uid": 1})
	resp, body := h.transfer(t, http.MethodGet, r["url"].(string), "", nil, 0)
	if resp.StatusCode != 200 || !bytes.Equal(body, stored) || resp.Header.Get("Content-Type") != "message/rfc822" || resp.Header.Get("Content-Length") != fmt.Sprint(len(stored)) {
		t.Fatalf(".eml: %d, %d bytes (stored %d), %v", resp.StatusCode, len(body), len(stored), resp.Header)
	}
	r = c.ok(map[string]any{"op": "download", "mailbox": "INBOX", "uid": 1, "cid": "logo@example.com", "disposition": "inline"})
	resp, body = h.transfer(t, http.MethodGet, r["url"].(string), testOrigin, nil, 0)
	if resp.StatusCode != 200 || sha256.Sum256(body) != decodedParts(t, raws[1<<10])["2.2"] || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") {
		t.Fatalf("cid: %d %v", resp.StatusCode, resp.Header)
	}
	// Refusals.
	resp, _ = h.transfer(t, http.MethodGet, r["url"].(string), testOrigin, nil, 0)
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("reused ticket: %d, want 410", resp.StatusCode)
	}
	r = c.ok(map[string]any{"op": "download", "mailbox": "INBOX", "uid": 1, "part": "1"})
	if resp, _ = h.transfer(t, http.MethodGet, r["url"].(string), "https://evil.example", nil, 0); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("other origin: %d, want 403", resp.StatusCode)
	}
	if resp, _ = h.transfer(t, http.MethodGet, TransferPath+"forged", testOrigin, nil, 0); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged ticket: %d, want 403", resp.StatusCode)
	}
	r = c.ok(map[string]any{"op": "download", "mailbox": "INBOX", "uid": 1, "part": "9"})
	if resp, _ = h.transfer(t, http.MethodGet, r["url"].(string), testOrigin, nil, 0); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("missing part: %d, want 404", resp.StatusCode)
	}
	r = c.ok(map[string]any{"op": "download", "mailbox": "INBOX", "uidValidity": 1, "uid": 1, "part": "1"})
	if resp, _ = h.transfer(t, http.MethodGet, r["url"].(string), testOrigin, nil, 0); resp.StatusCode != http.StatusGone {
		t.Fatalf("stale UIDVALIDITY: %d, want 410", resp.StatusCode)
	}
	// The session still serves requests.
	c.ok(map[string]any{"op": "noop"})
}

// TestDovecotUploads: a PUT of 5 MiB lands byte-exact in Drafts; a body
// shorter than declared, or a Content-Length other than the ticket's, is
// refused and stores nothing.
func TestDovecotUploads(t *testing.T) {
	t.Parallel()
	h, dv := dovecotHarness(t)
	c, user := openDovecot(t, h, dv, "plain", auth.CredentialPassword)
	msg := transferMessage(t, 5<<20)
	c.ok(map[string]any{"op": "create", "mailbox": "Drafts"})
	r := c.ok(map[string]any{"op": "upload", "mailbox": "Drafts", "flags": []string{`\Draft`}, "size": len(msg)})
	resp, body := h.transfer(t, http.MethodPut, r["url"].(string), testOrigin, bytes.NewReader(msg), int64(len(msg)))
	if resp == nil || resp.StatusCode != 200 || !strings.Contains(string(body), `"uid":1`) {
		t.Fatalf("upload: %v %s", resp, body)
	}
	pw, _ := dv.Password(user)
	p := peer(t, dv.PlainAddr, user, pw)
	if _, err := p.Select(ctx5(t), "Drafts", true); err != nil {
		t.Fatal(err)
	}
	res, err := p.UIDFetch(ctx5(t), "1", "(BODY.PEEK[])")
	if err != nil || !bytes.Equal(res.Data[0].Literal(), msg) {
		t.Fatalf("stored message differs: %v", err)
	}
	// Wrong Content-Length: refused before IMAP.
	r = c.ok(map[string]any{"op": "upload", "mailbox": "Drafts", "size": 100})
	if resp, _ = h.transfer(t, http.MethodPut, r["url"].(string), testOrigin, bytes.NewReader(make([]byte, 50)), 50); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("size mismatch: %d, want 400", resp.StatusCode)
	}
	// Over the limit: no ticket.
	c.fails(map[string]any{"op": "upload", "mailbox": "Drafts", "size": DefaultMaxUploadBytes + 1}, "limit")
	// Without Origin: refused.
	r = c.ok(map[string]any{"op": "upload", "mailbox": "Drafts", "size": 10})
	if resp, _ = h.transfer(t, http.MethodPut, r["url"].(string), "", strings.NewReader("0123456789"), 10); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("no origin: %d, want 403", resp.StatusCode)
	}
	st, err := p.Status(ctx5(t), "Drafts", "(MESSAGES)")
	if err != nil || !strings.Contains(string(st.Data[0].Bytes()), "MESSAGES 1") {
		t.Fatalf("Drafts after refusals: %v %v", st, err)
	}
}
