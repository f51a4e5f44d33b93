package imapengine

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // LoadLocation works without a system zoneinfo
)

// mustLoad loads an IANA zone or fails the test.
func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func intPtr(n int) *int { return &n }

// TestImaplib_test_Internaldate2tuple: three spellings of the same instant.
func TestImaplib_test_Internaldate2tuple(t *testing.T) {
	want := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for _, resp := range []string{
		`25 (INTERNALDATE "01-Jan-2000 00:00:00 +0000")`,
		`25 (INTERNALDATE "01-Jan-2000 11:30:00 +1130")`,
		`25 (INTERNALDATE "31-Dec-1999 12:30:00 -1130")`,
	} {
		got, ok, err := Internaldate2tuple([]byte(resp))
		if err != nil || !ok || got.Unix() != want {
			t.Errorf("Internaldate2tuple(%q) = %v, %v, %v; want unix %d", resp, got, ok, err, want)
		}
		if got.Location() != time.Local {
			t.Errorf("Internaldate2tuple(%q) location %v, want Local", resp, got.Location())
		}
	}
}

// TestImaplib_test_Internaldate2tuple_issue10941: DST-ambiguous local
// times stay distinct (bpo-10941) under US Mountain rules.
func TestImaplib_test_Internaldate2tuple_issue10941(t *testing.T) {
	loc := mustLoad(t, "America/Denver")
	t1, ok1, err1 := Internaldate2tupleIn([]byte(`25 (INTERNALDATE "02-Apr-2000 02:30:00 +0000")`), loc)
	t2, ok2, err2 := Internaldate2tupleIn([]byte(`25 (INTERNALDATE "02-Apr-2000 03:30:00 +0000")`), loc)
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		t.Fatalf("parse failed: %v %v %v %v", ok1, err1, ok2, err2)
	}
	if t1.Equal(t2) || t1.Format(time.DateTime) == t2.Format(time.DateTime) {
		t.Errorf("results equal: %v and %v", t1, t2)
	}
	if t2.Sub(t1) != time.Hour {
		t.Errorf("difference %v, want 1h", t2.Sub(t1))
	}
}

func TestInternaldate2tupleTable(t *testing.T) {
	utc := func(y int, m time.Month, d, h, mi, s int) time.Time { return time.Date(y, m, d, h, mi, s, 0, time.UTC) }
	tests := []struct {
		name    string
		in      string
		want    time.Time
		ok      bool
		wantErr error
	}{
		{"basic", `INTERNALDATE "17-Jul-1996 02:44:25 -0700"`, utc(1996, 7, 17, 9, 44, 25), true, nil},
		{"space day", `INTERNALDATE " 1-Jan-2000 00:00:00 +0000"`, utc(2000, 1, 1, 0, 0, 0), true, nil},
		{"zero day", `INTERNALDATE "01-Jan-2000 00:00:00 +0000"`, utc(2000, 1, 1, 0, 0, 0), true, nil},
		{"one digit day", `INTERNALDATE "1-Jan-2000 00:00:00 +0000"`, time.Time{}, false, nil},
		{"upper month", `INTERNALDATE "01-JAN-2000 00:00:00 +0000"`, time.Time{}, false, nil},
		{"unknown month", `INTERNALDATE "01-Foo-2000 00:00:00 +0000"`, time.Time{}, false, ErrUnknownMonth},
		{"year zero", `INTERNALDATE "01-Jan-0000 00:00:00 +0000"`, time.Time{}, false, ErrDateRange},
		{"no quote", `INTERNALDATE 01-Jan-2000 00:00:00 +0000`, time.Time{}, false, nil},
		{"no zone sign", `INTERNALDATE "01-Jan-2000 00:00:00 0000"`, time.Time{}, false, nil},
		{"missing closing quote", `INTERNALDATE "01-Jan-2000 00:00:00 +0000`, time.Time{}, false, nil},
		{"empty", ``, time.Time{}, false, nil},
		{"normalised day 0", `INTERNALDATE "00-Mar-2000 00:00:00 +0000"`, utc(2000, 2, 29, 0, 0, 0), true, nil},
		{"normalised 39 and 99s", `INTERNALDATE "39-Dec-1999 99:99:99 +0000"`, utc(2000, 1, 12, 4, 40, 39), true, nil},
		{"last wins", `INTERNALDATE "01-Jan-2000 00:00:00 +0000" INTERNALDATE "02-Jan-2000 00:00:00 +0000"`, utc(2000, 1, 2, 0, 0, 0), true, nil},
		{"later malformed falls back", `INTERNALDATE "01-Jan-2000 00:00:00 +0000" INTERNALDATE "x"`, utc(2000, 1, 1, 0, 0, 0), true, nil},
		{"not past first line", "x\r\nINTERNALDATE \"01-Jan-2000 00:00:00 +0000\"", time.Time{}, false, nil},
		{"zone minutes", `INTERNALDATE "01-Jan-2000 00:00:00 +0545"`, utc(1999, 12, 31, 18, 15, 0), true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := Internaldate2tupleIn([]byte(tc.in), time.UTC)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "imapengine: ") {
				t.Errorf("error %q lacks package prefix", err)
			}
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// berlin stands in for CPython's TZ "STD-1DST,M3.2.0,M11.1.0": +0100
// standard, +0200 in summer (May 2033 is summer under both rules).
func berlin(t testing.TB) *time.Location { return mustLoad(t, "Europe/Berlin") }

// time2InternaldateInputs are the seven inputs of CPython's
// test_Time2Internaldate, translated to Go values.
func time2InternaldateInputs(loc *time.Location) []any {
	return []any{
		2000000000,
		2000000000.0,
		TimeTuple{2033, 5, 18, 5, 33, 20, 2, 138, 1, intPtr(7200)}, // time.localtime(2000000000)
		TimeTuple{2033, 5, 18, 5, 33, 20, -1, -1, -1, nil},
		TimeTuple{2033, 5, 18, 5, 33, 20, -1, -1, 1, nil},
		time.Unix(2000000000, 0).In(time.FixedZone("UTC+2", 2*3600)),
		`"18-May-2033 05:33:20 +0200"`,
	}
}

func TestImaplib_test_Time2Internaldate(t *testing.T) {
	loc := berlin(t)
	const want = `"18-May-2033 05:33:20 +0200"`
	// CPython runs this under de_DE, fr_FR and the C locale; Go has no
	// locale, and the month names are English by construction.
	for _, v := range time2InternaldateInputs(loc) {
		got, err := Time2InternaldateIn(v, loc)
		if err != nil || got != want {
			t.Errorf("Time2InternaldateIn(%#v) = %q, %v; want %q", v, got, err, want)
		}
	}
}

func TestImaplib_test_Time2Internaldate_datetime_timetuple(t *testing.T) {
	// datetime.fromtimestamp(2000000000).timetuple(): tm_isdst -1, tm_gmtoff None.
	tt := TimeTuple{Year: 2033, Month: 5, Day: 18, Hour: 5, Min: 33, Sec: 20, Wday: 2, Yday: 138, IsDST: -1}
	got, err := Time2InternaldateIn(tt, berlin(t))
	if want := `"18-May-2033 05:33:20 +0200"`; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if got2, err := Time2InternaldateIn(&tt, berlin(t)); err != nil || got2 != got {
		t.Errorf("*TimeTuple: got %q, %v", got2, err)
	}
}

func TestImaplib_test_that_Time2Internaldate_returns_a_result(t *testing.T) {
	for _, v := range time2InternaldateInputs(time.Local) {
		if _, err := Time2Internaldate(v); err != nil {
			t.Errorf("Time2Internaldate(%#v): %v", v, err)
		}
	}
}

func TestTime2InternaldateTable(t *testing.T) {
	loc := berlin(t)
	tests := []struct {
		name    string
		in      any
		want    string
		wantErr error
	}{
		{"int", 2000000000, `"18-May-2033 05:33:20 +0200"`, nil},
		{"int64", int64(2000000000), `"18-May-2033 05:33:20 +0200"`, nil},
		{"uint32", uint32(2000000000), `"18-May-2033 05:33:20 +0200"`, nil},
		{"float", 2000000000.0, `"18-May-2033 05:33:20 +0200"`, nil},
		{"float32", float32(0), `"01-Jan-1970 01:00:00 +0100"`, nil},
		{"float fraction truncates", 2000000000.9, `"18-May-2033 05:33:20 +0200"`, nil},
		{"negative float", -1.5, `"01-Jan-1970 00:59:58 +0100"`, nil},
		{"winter int", 0, `"01-Jan-1970 01:00:00 +0100"`, nil},
		{"tuple dst 0", TimeTuple{2033, 5, 18, 5, 33, 20, -1, -1, 0, nil}, `"18-May-2033 05:33:20 +0100"`, nil},
		{"tuple dst -1 winter", TimeTuple{2033, 1, 18, 5, 33, 20, -1, -1, -1, nil}, `"18-Jan-2033 05:33:20 +0100"`, nil},
		{"tuple gmtoff wins", TimeTuple{2033, 5, 18, 5, 33, 20, -1, -1, 0, intPtr(-19800)}, `"18-May-2033 05:33:20 -0530"`, nil},
		{"datetime -05:30", time.Date(2024, 1, 5, 3, 4, 5, 0, time.FixedZone("", -(5*3600+1800))), `"05-Jan-2024 03:04:05 -0530"`, nil},
		{"year 999 unpadded", time.Date(999, 1, 5, 0, 0, 0, 0, time.UTC), `"05-Jan-999 00:00:00 +0000"`, nil},
		{"seconds offset truncated", time.Date(2000, 1, 1, 0, 0, 30, 0, time.FixedZone("", 3630)), `"01-Jan-2000 00:00:00 +0100"`, nil},
		{"quoted string unchanged", `"junk"`, `"junk"`, nil},
		{"single quote char", `"`, `"`, nil},
		{"empty string", "", "", ErrEmptyDate},
		{"unquoted string", "18-May-2033 05:33:20 +0200", "", ErrUnknownDateType},
		{"bytes", []byte(`"x"`), "", ErrUnknownDateType},
		{"nil", nil, "", ErrUnknownDateType},
		{"bool", true, "", ErrUnknownDateType},
		{"list", []any{1}, "", ErrUnknownDateType},
		{"nil tuple pointer", (*TimeTuple)(nil), "", ErrUnknownDateType},
		{"NaN", math.NaN(), "", ErrDateRange},
		{"Inf", math.Inf(1), "", ErrDateRange},
		{"huge int", int64(math.MaxInt64), "", ErrDateRange},
		{"huge uint", uint64(math.MaxUint64), "", ErrDateRange},
		{"bad month", TimeTuple{2033, 13, 18, 5, 33, 20, -1, -1, -1, nil}, "", ErrDateRange},
		{"bad day", TimeTuple{2033, 2, 29, 5, 33, 20, -1, -1, -1, nil}, "", ErrDateRange},
		{"bad gmtoff", TimeTuple{2033, 2, 1, 5, 33, 20, -1, -1, -1, intPtr(86400)}, "", ErrDateRange},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "", ErrDateRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Time2InternaldateIn(tc.in, loc)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "imapengine: ") {
				t.Errorf("error %q lacks package prefix", err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestTime2InternaldateRoundTrip checks that formatting and parsing agree.
func TestTime2InternaldateRoundTrip(t *testing.T) {
	loc := mustLoad(t, "America/Denver")
	for sec := int64(-2e9); sec < 4e9; sec += 7777777 {
		s, err := Time2InternaldateIn(sec, loc)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := Internaldate2tupleIn([]byte("INTERNALDATE "+s), loc)
		if !ok || err != nil || got.Unix() != sec {
			t.Fatalf("%d -> %s -> %v %v %v", sec, s, got.Unix(), ok, err)
		}
	}
}

func FuzzInternaldate2tuple(f *testing.F) {
	for _, s := range []string{
		`25 (INTERNALDATE "01-Jan-2000 00:00:00 +0000")`,
		`25 (INTERNALDATE "31-Dec-1999 12:30:00 -1130")`,
		`INTERNALDATE "01-Foo-2000 00:00:00 +0000"`,
		`INTERNALDATE "39-Dec-9999 99:99:99 -9999"`,
		`INTERNALDATE "00-Jan-0001 00:00:00 +9999"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, ok, err := Internaldate2tupleIn(b, time.UTC)
		if err != nil && ok {
			t.Fatal("ok with error")
		}
		if ok {
			if _, err := Time2InternaldateIn(tm, time.UTC); err != nil && !errors.Is(err, ErrDateRange) {
				t.Fatalf("reformat: %v", err)
			}
		}
	})
}

func BenchmarkInternaldate2tuple(b *testing.B) {
	resp := []byte(`* 12 FETCH (UID 99 FLAGS (\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286)`)
	for b.Loop() {
		if _, ok, _ := Internaldate2tupleIn(resp, time.UTC); !ok {
			b.Fatal("no match")
		}
	}
}

func BenchmarkTime2Internaldate(b *testing.B) {
	tm := time.Unix(2000000000, 0).UTC()
	for b.Loop() {
		if _, err := Time2Internaldate(tm); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleTime2Internaldate() {
	zone := time.FixedZone("CEST", 2*60*60)
	s, _ := Time2InternaldateIn(int64(2000000000), zone)
	fmt.Println(s)
	s, _ = Time2Internaldate(time.Date(2024, 1, 5, 3, 4, 5, 0, time.FixedZone("", -(5*3600+30*60))))
	fmt.Println(s)
	// Output:
	// "18-May-2033 05:33:20 +0200"
	// "05-Jan-2024 03:04:05 -0530"
}

func ExampleInternaldate2tuple() {
	t, ok, err := Internaldate2tuple([]byte(`25 (INTERNALDATE "31-Dec-1999 12:30:00 -1130")`))
	fmt.Println(t.UTC(), ok, err)
	_, ok, err = Internaldate2tuple([]byte(`25 (INTERNALDATE "01-Foo-2000 00:00:00 +0000")`))
	fmt.Println(ok, err)
	// Output:
	// 2000-01-01 00:00:00 +0000 UTC true <nil>
	// false imapengine: unknown month in INTERNALDATE: "Foo"
}
