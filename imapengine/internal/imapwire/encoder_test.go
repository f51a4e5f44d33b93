package imapwire

import (
	"errors"
	"strings"
	"testing"
)

// wire renders a command as the bytes sent, marking sync waits with "<+>".
func wire(c Command) string {
	var sb strings.Builder
	for _, ch := range c.Chunks {
		sb.Write(ch.Text)
		if ch.Literal != nil {
			if ch.Sync {
				sb.WriteString("<+>")
			}
			sb.Write(ch.Literal)
		}
	}
	return sb.String()
}

func TestEncoder(t *testing.T) {
	tests := []struct {
		name  string
		opts  EncoderOptions
		build func(e *Encoder)
		want  string
		n     int
		err   error
	}{
		{"select", EncoderOptions{}, func(e *Encoder) { e.Atom("A1").SP().Atom("SELECT").SP().AString("New folder") },
			"A1 SELECT \"New folder\"\r\n", 1, nil},
		{"login", EncoderOptions{}, func(e *Encoder) {
			e.Atom("A1").SP().Atom("LOGIN").SP().AString("user").SP().Quoted(`p"w\d`)
		}, "A1 LOGIN user \"p\\\"w\\\\d\"\r\n", 1, nil},
		{"list", EncoderOptions{}, func(e *Encoder) { e.Atom("A2 LIST").SP().AString("").SP().ListMailbox("foo/%") },
			"A2 LIST \"\" foo/%\r\n", 1, nil},
		{"append sync", EncoderOptions{}, func(e *Encoder) {
			e.Atom("A3").SP().Atom("APPEND").SP().AString("INBOX").SP().Bytes([]byte("(\\Seen)")).SP().Literal([]byte("hello"))
		}, "A3 APPEND INBOX (\\Seen) {5}\r\n<+>hello\r\n", 2, nil},
		{"append literal+", EncoderOptions{LiteralPlus: true}, func(e *Encoder) {
			e.Atom("A3 APPEND INBOX").SP().Literal([]byte(strings.Repeat("x", 5000)))
		}, "A3 APPEND INBOX {5000+}\r\n" + strings.Repeat("x", 5000) + "\r\n", 2, nil},
		{"literal- small", EncoderOptions{LiteralMinus: true}, func(e *Encoder) { e.Atom("A4 X").SP().Literal([]byte("abc")) },
			"A4 X {3+}\r\nabc\r\n", 2, nil},
		{"literal- large is sync", EncoderOptions{LiteralMinus: true}, func(e *Encoder) { e.Atom("A4 X").SP().Literal(make([]byte, 4097)) },
			"A4 X {4097}\r\n<+>" + string(make([]byte, 4097)) + "\r\n", 2, nil},
		{"utf8 append", EncoderOptions{UTF8: true}, func(e *Encoder) {
			e.Atom("A5 APPEND").SP().AString("Entwürfe").SP().Bytes([]byte("UTF8 (")).Literal8([]byte("a\x00")).Bytes([]byte(")"))
		}, "A5 APPEND \"Entwürfe\" UTF8 (~{2}\r\n<+>a\x00)\r\n", 2, nil},
		{"8bit without utf8 goes literal", EncoderOptions{}, func(e *Encoder) { e.Atom("A6 SELECT").SP().AString("Entw\xfcrfe") },
			"A6 SELECT {8}\r\n<+>Entw\xfcrfe\r\n", 2, nil},
		{"already quoted 8bit kept", EncoderOptions{}, func(e *Encoder) { e.Atom("A6 SELECT").SP().AString("\"Entw\xfcrfe\"") },
			"A6 SELECT \"Entw\xfcrfe\"\r\n", 1, nil},
		{"two literals", EncoderOptions{}, func(e *Encoder) {
			e.Atom("A7 X").SP().Literal([]byte("a")).SP().Literal([]byte("")).SP().Number(42)
		}, "A7 X {1}\r\n<+>a {0}\r\n<+> 42\r\n", 3, nil},
		{"explicit CRLF", EncoderOptions{}, func(e *Encoder) { e.Atom("DONE").CRLF() }, "DONE\r\n", 1, nil},
		{"C1 mailbox CRLF", EncoderOptions{}, func(e *Encoder) { e.Atom("A1 SELECT").SP().AString("INBOX\r\nX1 DELETE INBOX") }, "", 0, ErrBadArgument},
		{"C1 search", EncoderOptions{}, func(e *Encoder) {
			e.Atom("A1 SEARCH").SP().Raw("x\"\r\nX1 STORE 1:* +FLAGS (\\Deleted)\r\nX2 EXPUNGE")
		}, "", 0, ErrBadArgument},
		{"C1 flag", EncoderOptions{}, func(e *Encoder) { e.Atom("A1 STORE 1 +FLAGS").SP().Atom("\\Seen)\r\nA2 LOGOUT") }, "", 0, ErrBadArgument},
		{"C1 password", EncoderOptions{}, func(e *Encoder) { e.Atom("A1 LOGIN u").SP().Quoted("p\r\nA9 LOGOUT") }, "", 0, ErrBadArgument},
		{"C1 NUL", EncoderOptions{}, func(e *Encoder) { e.Atom("A1 X").SP().ListMailbox("a\x00") }, "", 0, ErrBadArgument},
		{"C2 quoting", EncoderOptions{}, func(e *Encoder) { e.Atom("A1 CREATE").SP().AString(`a"b\c`) }, "A1 CREATE \"a\\\"b\\\\c\"\r\n", 1, nil},
		{"C2 forged literal raw", EncoderOptions{}, func(e *Encoder) { e.Atom("A1 SEARCH").SP().Raw("TEXT {12}") }, "", 0, ErrBadArgument},
		{"C2 forged literal+ atom", EncoderOptions{}, func(e *Encoder) { e.Atom("A1 X").SP().Atom("{5+}") }, "", 0, ErrBadArgument},
		{"C2 forged across atoms", EncoderOptions{}, func(e *Encoder) { e.Atom("A1 X {5").Atom("}") }, "", 0, ErrBadArgument},
		{"C2 astring braces quoted", EncoderOptions{}, func(e *Encoder) { e.Atom("A1 SEARCH TEXT").SP().AString("{12}") }, "A1 SEARCH TEXT \"{12}\"\r\n", 1, nil},
		{"not a literal {}", EncoderOptions{}, func(e *Encoder) { e.Atom("A1 X {}") }, "A1 X {}\r\n", 1, nil},
		{"empty", EncoderOptions{}, func(e *Encoder) {}, "", 0, ErrBadArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEncoder(tc.opts)
			tc.build(e)
			cmd, err := e.Command()
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "imapwire: ") {
					t.Fatalf("message %q", err)
				}
				return
			}
			if got := wire(cmd); got != tc.want {
				t.Fatalf("wire = %q, want %q", got, tc.want)
			}
			if len(cmd.Chunks) != tc.n {
				t.Fatalf("%d chunks, want %d", len(cmd.Chunks), tc.n)
			}
			for i, ch := range cmd.Chunks {
				if ch.Literal != nil && !strings.HasSuffix(string(ch.Text), "}\r\n") {
					t.Errorf("chunk %d text %q", i, ch.Text)
				}
				if ch.Literal == nil && !strings.HasSuffix(string(ch.Text), "\r\n") {
					t.Errorf("chunk %d text %q", i, ch.Text)
				}
			}
		})
	}
}

func TestEncoderStickyAndReuse(t *testing.T) {
	e := NewEncoder(EncoderOptions{})
	e.Atom("A1").SP().Atom("bad\n").SP().Atom("ok")
	if !errors.Is(e.Err(), ErrBadArgument) {
		t.Fatalf("Err = %v", e.Err())
	}
	if _, err := e.Command(); !errors.Is(err, ErrBadArgument) {
		t.Fatalf("Command err = %v", err)
	}
	// After Command the encoder is clean.
	cmd1, err := e.Atom("A2 NOOP").Command()
	if err != nil {
		t.Fatal(err)
	}
	cmd2, err := e.Atom("A3 NOOP").Command()
	if err != nil {
		t.Fatal(err)
	}
	if wire(cmd1) != "A2 NOOP\r\n" || wire(cmd2) != "A3 NOOP\r\n" {
		t.Fatalf("%q %q", wire(cmd1), wire(cmd2))
	}
	e.Atom("x\r")
	e.Reset()
	if e.Err() != nil {
		t.Fatal("Reset kept error")
	}
}

// TestEncoderRoundTrip checks that every encoded astring is read back
// unchanged by the Scanner, whether sent quoted, atom or literal.
func TestEncoderRoundTrip(t *testing.T) {
	for _, opts := range []EncoderOptions{{}, {UTF8: true}} {
		for _, in := range []string{"INBOX", "New folder", `a"b`, `a\b`, "", "*", "{5}", "Entw\xfcrfe", "a]b", "tab\there"} {
			cmd, err := NewEncoder(opts).AString(in).Command()
			if err != nil {
				t.Fatal(err)
			}
			// The synchronization marker is not on the wire.
			r := resp(t, strings.ReplaceAll(wire(cmd), "<+>", ""))
			s := NewScanner(r, Limits{})
			got := s.AString()
			if s.Err() != nil || string(got) != in || !s.AtEnd() {
				t.Errorf("%+v %q: got %q err %v", opts, in, got, s.Err())
			}
		}
	}
}
