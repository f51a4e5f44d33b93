package imapwire_test

import (
	"fmt"
	"strings"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// Read one FETCH response with a literal and walk it with a Scanner.
func ExampleScanner() {
	wire := "* 1 FETCH (UID 7 BODY[] {5}\r\nhello)\r\n"
	r := imapwire.NewReader(strings.NewReader(wire), imapwire.Limits{})
	resp, err := r.ReadResponse()
	if err != nil {
		panic(err)
	}
	s := imapwire.NewScanner(resp, imapwire.Limits{})
	s.Expect('*')
	s.SP()
	seq := s.Number()
	s.SP()
	s.Atom() // FETCH
	s.SP()
	s.List(func() {
		key := s.FlagOrAtom()
		s.SP()
		switch key {
		case "UID":
			fmt.Println("UID", s.Number())
		default:
			fmt.Printf("%s %q\n", key, s.String())
		}
	})
	fmt.Println(seq, s.AtEnd(), s.Err())
	// Output:
	// UID 7
	// BODY[] "hello"
	// 1 true <nil>
}

// Build an APPEND whose literal needs a continuation request.
func ExampleEncoder() {
	e := imapwire.NewEncoder(imapwire.EncoderOptions{})
	cmd, err := e.Atom("A1").SP().Atom("APPEND").SP().AString("Sent items").SP().Literal([]byte("Hi")).Command()
	if err != nil {
		panic(err)
	}
	for _, c := range cmd.Chunks {
		fmt.Printf("%q sync=%v literal=%q\n", c.Text, c.Sync, c.Literal)
	}
	// Output:
	// "A1 APPEND \"Sent items\" {2}\r\n" sync=true literal="Hi"
	// "\r\n" sync=false literal=""
}
