package imap

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// threadString renders nodes as "uid[children]" for comparisons.
func threadString(ns []*ThreadNode) string {
	var parts []string
	for _, n := range ns {
		s := fmt.Sprint(n.UID)
		if len(n.Children) > 0 {
			s += "[" + threadString(n.Children) + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

var threadSeeds = []string{
	"* THREAD (2)(3 6 (4 23)(44 7 96))\r\n",
	"* THREAD ((3)(5))\r\n",
	"* THREAD\r\n",
	"* THREAD (1)\r\n",
}

func TestParseThread(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"* THREAD (2)(3 6 (4 23)(44 7 96))\r\n", "2 3[6[4[23] 44[7[96]]]]"},
		{"* THREAD ((3)(5))\r\n", "0[3 5]"},
		{"* THREAD (166)(167)(168)(169)(172)(170)(171)(173)(174 (175)(176)(178)(181)(180))(179)\r\n",
			"166 167 168 169 172 170 171 173 174[175 176 178 181 180] 179"},
		{"* THREAD\r\n", ""},
		{"* THREAD \r\n", ""},
	} {
		got, err := ParseThread(resp(t, tc.raw), testLimits)
		if err != nil {
			t.Errorf("%q: %v", tc.raw, err)
			continue
		}
		if s := threadString(got); s != tc.want {
			t.Errorf("%q = %s, want %s", tc.raw, s, tc.want)
		}
	}
	deep := "* THREAD (" + strings.Repeat("1 ", MaxThreadDepth+1) + "2)\r\n"
	for _, raw := range []string{"* THREAD (\r\n", "* THREAD ()\r\n", "* THREAD (1 (2) 3)\r\n", "* THREAD (x)\r\n",
		"* THREAD (0)\r\n", deep, "* THREAD " + strings.Repeat("(", 200) + "\r\n", "* SORT 1\r\n"} {
		if _, err := ParseThread(resp(t, raw), testLimits); err == nil {
			t.Errorf("%.40q parsed", raw)
		} else if !errors.Is(err, ErrUnexpectedResponse) {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("%.40q: untyped error %v", raw, err)
			}
		}
	}
}

func TestParseSort(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []uint32
	}{
		{"* SORT 5 3 4 1 2\r\n", []uint32{5, 3, 4, 1, 2}},
		{"* SORT\r\n", []uint32{}},
		{"* SORT 2 1 (MODSEQ 9)\r\n", []uint32{2, 1}},
	} {
		sd, err := ParseSort(resp(t, tc.raw), testLimits)
		if err != nil || !slices.Equal(sd.Nums, tc.want) {
			t.Errorf("%q = %v, %v", tc.raw, sd, err)
		}
	}
	if _, err := ParseSort(resp(t, "* SORT 1 x\r\n"), testLimits); err == nil {
		t.Error("bad SORT parsed")
	}
}

func FuzzParseThread(f *testing.F) {
	for _, s := range threadSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := tryResp(raw, fuzzLimits)
		if r == nil {
			return
		}
		roots, err := ParseThread(r, fuzzLimits)
		checkErr(t, err)
		for _, n := range roots {
			if n == nil {
				t.Fatal("nil root")
			}
			_ = n.Count()
		}
	})
}

func FuzzParseSort(f *testing.F) {
	f.Add([]byte("* SORT 5 3 4 1 2\r\n"))
	f.Add([]byte("* SORT 2 1 (MODSEQ 9)\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := tryResp(raw, fuzzLimits)
		if r == nil {
			return
		}
		_, err := ParseSort(r, fuzzLimits)
		checkErr(t, err)
	})
}
