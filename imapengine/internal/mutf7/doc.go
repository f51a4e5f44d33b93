// Package mutf7 implements the modified UTF-7 encoding that IMAP4rev1 uses
// for mailbox names (RFC 3501 §5.1.3).
//
// Printable US-ASCII characters (0x20–0x7E) other than '&' stand for
// themselves; '&' is written "&-"; every other character is written as
// UTF-16BE in a modified BASE64 (with ',' in place of '/', no padding)
// between '&' and '-'.
//
// Decode is strict: it rejects shifted sequences that encode printable
// ASCII, null shifts, non-zero padding bits, unpaired surrogates,
// unterminated shifts and raw non-ASCII or control bytes. Because of that
// strictness the encoding is canonical: for every s that Decode accepts,
// Encode of the result gives back s.
package mutf7
