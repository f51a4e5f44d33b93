package imap

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
)

// ErrUnknownEncoding reports a Content-Transfer-Encoding DecodeTransfer
// does not know; the caller may pass the bytes on undecoded.
var ErrUnknownEncoding = errors.New("imap: unknown transfer encoding")

// DecodeTransfer returns a reader of the decoded bytes of a part whose
// Content-Transfer-Encoding is encoding (BodyStructure.Encoding): base64
// (line breaks and other whitespace skipped), quoted-printable (as
// mime/quotedprintable, soft line breaks removed), or the identity for 7bit,
// 8bit, binary and "". It decodes as it reads: memory does not grow with the
// part. An unknown encoding returns r itself and an error matching
// ErrUnknownEncoding. Corrupt input fails the reads with the decoder's error.
func DecodeTransfer(encoding string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &spaceDropper{r: r}), nil
	case "quoted-printable":
		return quotedprintable.NewReader(r), nil
	case "", "7bit", "8bit", "binary":
		return r, nil
	}
	return r, fmt.Errorf("%w: %q", ErrUnknownEncoding, encoding)
}

// spaceDropper removes spaces and tabs (encoding/base64 itself skips CR and
// LF), which some senders leave at line ends of base64 bodies.
type spaceDropper struct{ r io.Reader }

func (s *spaceDropper) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		k := 0
		for _, b := range p[:n] {
			if b != ' ' && b != '\t' {
				p[k] = b
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// Find returns the part numbered partNumber (BodyStructure.PartNumber) in b's
// tree, or nil.
func (b *BodyStructure) Find(partNumber string) *BodyStructure {
	var found *BodyStructure
	b.Walk(func(p *BodyStructure) bool {
		if found != nil {
			return false
		}
		if p.PartNumber == partNumber && !p.IsMultipart() {
			found = p
			return false
		}
		return true
	})
	return found
}

// FindContentID returns the single part whose Content-ID is "<cid>" (the
// form "cid:" URLs name, RFC 2392, compared without angle brackets and
// case-insensitively), or nil.
func (b *BodyStructure) FindContentID(cid string) *BodyStructure {
	want := strings.Trim(cid, "<>")
	var found *BodyStructure
	b.Walk(func(p *BodyStructure) bool {
		if found == nil && p.ID != "" && strings.EqualFold(strings.Trim(p.ID, "<> "), want) {
			found = p
		}
		return found == nil
	})
	return found
}
