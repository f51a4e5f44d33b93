package mutf7_test

import (
	"fmt"

	"github.com/imapbridge/imapbridge/imapengine/internal/mutf7"
)

func ExampleEncode() {
	fmt.Println(mutf7.Encode("~peter/mail/台北/日本語"))
	// Output: ~peter/mail/&U,BTFw-/&ZeVnLIqe-
}

func ExampleDecode() {
	s, err := mutf7.Decode("Entw&APw-rfe")
	fmt.Println(s, err)
	_, err = mutf7.Decode("&Jjo")
	fmt.Println(err)
	// Output:
	// Entwürfe <nil>
	// mutf7: invalid modified UTF-7 at byte 0: unterminated shifted sequence
}

func ExampleEncodeMailbox() {
	fmt.Println(mutf7.EncodeMailbox("Entwürfe"))
	fmt.Println(mutf7.EncodeMailbox("Entw&APw-rfe"))
	fmt.Println(mutf7.EncodeMailbox("A&B"))
	// Output:
	// Entw&APw-rfe
	// Entw&APw-rfe
	// A&-B
}
