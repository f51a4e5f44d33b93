package imapwire

import (
	"errors"
	"testing"
)

func TestParseSeqSet(t *testing.T) {
	tests := []struct {
		in   string
		want SeqSet
		str  string
		err  error
	}{
		{"1", SeqSet{{1, 1}}, "1", nil},
		{"*", SeqSet{{0, 0}}, "*", nil},
		{"1:3,7,9:*", SeqSet{{1, 3}, {7, 7}, {9, 0}}, "1:3,7,9:*", nil},
		{"B11 full range", SeqSet{{1, 4294967295}}, "1:4294967295", nil},
		{"4:2", SeqSet{{4, 2}}, "4:2", nil},
		{"*:5", SeqSet{{0, 5}}, "*:5", nil},
		{"", nil, "", ErrSyntax},
		{"0", nil, "", ErrSyntax},
		{"1:0", nil, "", ErrSyntax},
		{"4294967296", nil, "", ErrNumberRange},
		{"00000000001", nil, "", ErrNumberRange},
		{"1,", nil, "", ErrSyntax},
		{",1", nil, "", ErrSyntax},
		{"1:", nil, "", ErrSyntax},
		{"1::2", nil, "", ErrSyntax},
		{"1 2", nil, "", ErrSyntax},
		{"a", nil, "", ErrSyntax},
	}
	for _, tc := range tests {
		in := tc.in
		if in == "B11 full range" {
			in = "1:4294967295"
		}
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSeqSet(in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("%T not *SyntaxError", err)
				}
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
			if got.String() != tc.str {
				t.Fatalf("String = %q, want %q", got.String(), tc.str)
			}
		})
	}
}

func TestSeqSetContains(t *testing.T) {
	tests := []struct {
		set string
		n   uint32
		in  bool
	}{
		{"1:4294967295", 4294967295, true},
		{"1:4294967295", 1, true},
		{"1:4294967295", 0, false},
		{"5:*", 1 << 31, true},
		{"5:*", 4, false},
		{"*:5", 6, true},
		{"*", 4294967295, false},
		{"4:2", 3, true},
		{"4:2", 5, false},
		{"1,3,5", 3, true},
		{"1,3,5", 4, false},
	}
	for _, tc := range tests {
		s, err := ParseSeqSet(tc.set)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Contains(tc.n); got != tc.in {
			t.Errorf("%s.Contains(%d) = %v, want %v", tc.set, tc.n, got, tc.in)
		}
	}
}
