package mutf7

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// pairs holds strings that map to each other in both directions.
var pairs = []struct {
	name    string
	decoded string
	encoded string
}{
	{"empty", "", ""},
	{"ascii", "INBOX", "INBOX"},
	{"space", "New folder", "New folder"},
	{"ampersand", "&", "&-"},
	{"two ampersands", "&&", "&-&-"},
	{"lone ampersand", "A&B", "A&-B"},
	{"umlaut", "Entwürfe", "Entw&APw-rfe"},
	{"rfc3501 example", "~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
	{"japanese", "日本語", "&ZeVnLIqe-"},
	{"control", "a\x01b", "a&AAE-b"},
	{"nul cr lf", "a\x00\r\nb", "a&AAAADQAK-b"},
	{"del", "\x7f", "&AH8-"},
	{"supplementary plane", "😀", "&2D3eAA-"},
	{"control then ampersand", "\x01&", "&AAE-&-"},
	{"ampersand then control", "&\x01", "&-&AAE-"},
	{"rfc2152 style hi mom", "Hi Mom -☺-!", "Hi Mom -&Jjo--!"},
	{"slash in base64 uses comma", "台", "&U,A-"},
}

func TestEncode(t *testing.T) {
	for _, tc := range pairs {
		t.Run(tc.name, func(t *testing.T) {
			if got := Encode(tc.decoded); got != tc.encoded {
				t.Errorf("Encode(%q) = %q, want %q", tc.decoded, got, tc.encoded)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range pairs {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.encoded)
			if err != nil || got != tc.decoded {
				t.Errorf("Decode(%q) = %q, %v; want %q, nil", tc.encoded, got, err, tc.decoded)
			}
			if !Valid(tc.encoded) {
				t.Errorf("Valid(%q) = false", tc.encoded)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"B9 unterminated", "&Jjo"},
		{"B9 encodes printable ascii", "&AGE-"},
		{"B9 raw utf-8", "Entwürfe"},
		{"B9 raw latin-1", "Entw\xfcrfe"},
		{"lone ampersand", "A&B"},
		{"ampersand at end", "abc&"},
		{"bad base64 byte", "&A*E-"},
		{"slash instead of comma", "&U/A-"},
		{"odd length one digit", "&A-"},
		{"odd byte count", "&AAEA-"},
		{"nonzero padding bits", "&AAF-"},
		{"unpaired high surrogate", "&2D0-"},
		{"unpaired low surrogate", "&3gA-"},
		{"high then non-low", "&2D0AYQ-"},
		{"null shift", "&AAE-&AAE-"},
		{"encodes ampersand", "&ACY-"},
		{"encodes space", "&ACA-"},
		{"raw control", "a\x01b"},
		{"raw tab", "a\tb"},
		{"raw del", "\x7f"},
		{"raw nul", "\x00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.in)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset >= len(tc.in) {
				t.Errorf("Decode(%q) error %v: want *DecodeError with offset in range", tc.in, err)
			}
			if !strings.HasPrefix(err.Error(), "mutf7: ") {
				t.Errorf("error message %q lacks package prefix", err)
			}
			if Valid(tc.in) {
				t.Errorf("Valid(%q) = true", tc.in)
			}
		})
	}
}

func TestEncodeMailbox(t *testing.T) {
	tests := []struct{ in, want string }{
		{"INBOX", "INBOX"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"Entw&APw-rfe", "Entw&APw-rfe"},
		{`"Entw&APw-rfe"`, `"Entw&APw-rfe"`},
		{"A&B", "A&-B"},
		{"New folder", "New folder"},
		{"", ""},
		{"a\x01b", "a&AAE-b"},
		{"&-&-", "&-&-"},
		{"&Jjo", "&-Jjo"},
		{"Entwürfe/%", "Entw&APw-rfe/%"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := EncodeMailbox(tc.in); got != tc.want {
				t.Errorf("EncodeMailbox(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestControlCharactersRoundTrip mirrors imaplib's test_control_characters:
// every C0 control inside a name survives the round trip and never appears
// raw in the encoded form.
func TestControlCharactersRoundTrip(t *testing.T) {
	for c := byte(0); c < 0x20; c++ {
		in := "a" + string(rune(c)) + "b"
		enc := EncodeMailbox(in)
		if strings.IndexByte(enc, c) >= 0 {
			t.Errorf("EncodeMailbox(%q) = %q contains the raw control", in, enc)
		}
		dec, err := Decode(enc)
		if err != nil || dec != in {
			t.Errorf("Decode(%q) = %q, %v; want %q", enc, dec, err, in)
		}
	}
}

func TestRoundTripAllBMPAndSome(t *testing.T) {
	var sb strings.Builder
	for r := rune(0); r < 0x11000; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		sb.WriteRune(r)
	}
	s := sb.String()
	enc := Encode(s)
	dec, err := Decode(enc)
	if err != nil || dec != s {
		t.Fatalf("round trip of all runes failed: %v", err)
	}
	if Encode(dec) != enc {
		t.Fatal("encoding is not canonical")
	}
}

func TestEncodeInvalidUTF8(t *testing.T) {
	if got, want := Encode("a\xffb"), Encode("a\uFFFDb"); got != want {
		t.Errorf("Encode(invalid) = %q, want %q", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range pairs {
		f.Add(tc.encoded)
	}
	for _, s := range []string{"&Jjo", "&AGE-", "&-&-", "&ZeVnLIqe-", "Entwürfe", "Entw\xfcrfe", "&AAE-&AAE-", "&2D0-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dec, err := Decode(s)
		if Valid(s) != (err == nil) {
			t.Fatalf("Valid(%q) disagrees with Decode error %v", s, err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode(%q) error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if !utf8.ValidString(dec) {
			t.Fatalf("Decode(%q) produced invalid UTF-8 %q", s, dec)
		}
		if again := Encode(dec); again != s {
			t.Fatalf("not canonical: Decode(%q) = %q, Encode gives %q", s, dec, again)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	for _, tc := range pairs {
		f.Add(tc.decoded)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		enc := Encode(s)
		if !Valid(enc) {
			t.Fatalf("Encode(%q) = %q is not Valid", s, enc)
		}
		dec, err := Decode(enc)
		if err != nil || dec != s {
			t.Fatalf("Decode(Encode(%q)) = %q, %v", s, dec, err)
		}
		if m := EncodeMailbox(s); Valid(s) && m != s || !Valid(s) && m != enc {
			t.Fatalf("EncodeMailbox(%q) = %q", s, m)
		}
	})
}

// FuzzMUTF7 is the security-plan target name (security.md B15): arbitrary
// server bytes must never panic and must either decode canonically or fail
// with ErrInvalid.
func FuzzMUTF7(f *testing.F) {
	for _, s := range []string{"&Jjo", "&AGE-", "&-&-", "&ZeVnLIqe-", "Entwürfe", "Entw\xfcrfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := string(b)
		dec, err := Decode(s)
		if err == nil && Encode(dec) != s {
			t.Fatalf("not canonical for %q", s)
		}
		_ = EncodeMailbox(s)
	})
}

func BenchmarkEncode(b *testing.B) {
	s := strings.Repeat("~peter/mail/台北/日本語/Entwürfe ", 8)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Encode(s)
	}
}

func BenchmarkDecode(b *testing.B) {
	s := Encode(strings.Repeat("~peter/mail/台北/日本語/Entwürfe ", 8))
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := Decode(s); err != nil {
			b.Fatal(err)
		}
	}
}
