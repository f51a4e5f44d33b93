package imapengine

import (
	"fmt"
	"math"
	"testing"
)

func TestInt2AP(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, ""},
		{1, "B"},
		{15, "P"},
		{16, "BA"},
		{17, "BB"},
		{255, "PP"},
		{256, "BAA"},
		{4096, "BAAA"},
		{65535, "PPPP"},
		{-17, "BB"},
		{truncFloat(3.9), "D"}, // Python truncates floats; Go converts first
		{math.MaxInt64, "HPPPPPPPPPPPPPPP"},
		{math.MinInt64, "IAAAAAAAAAAAAAAA"},
	}
	for _, tc := range tests {
		if got := Int2AP(tc.in); got != tc.want {
			t.Errorf("Int2AP(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestInt2APTagPrefixRange checks that imaplib's tag prefix range
// [4096, 65535] always gives four letters A–P.
func TestInt2APTagPrefixRange(t *testing.T) {
	for n := int64(4096); n <= 65535; n++ {
		s := Int2AP(n)
		if len(s) != 4 {
			t.Fatalf("Int2AP(%d) = %q", n, s)
		}
		for i := 0; i < 4; i++ {
			if s[i] < 'A' || s[i] > 'P' {
				t.Fatalf("Int2AP(%d) = %q", n, s)
			}
		}
	}
}

func ExampleInt2AP() {
	fmt.Println(Int2AP(0) == "", Int2AP(17), Int2AP(4096), Int2AP(65535))
	// Output: true BB BAAA PPPP
}

// truncFloat converts like int(3.9) in Python.
func truncFloat(f float64) int64 { return int64(f) }
