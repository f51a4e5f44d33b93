package benchop

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseOp(t *testing.T) {
	tests := []struct {
		in   string
		want Op
		err  error
	}{
		{"fetch-all", FetchAll, nil},
		{"uid-search", UIDSearch, nil},
		{"FETCH-ALL", "", ErrUsage},
		{"", "", ErrUsage},
	}
	for _, tt := range tests {
		got, err := ParseOp(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ParseOp(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestExpectedAndWrite(t *testing.T) {
	tests := []struct {
		op   Op
		want int
	}{{FetchAll, 10000}, {FetchEnvelope, 10000}, {FetchLoop, LoopCount}, {Noop, LoopCount}, {UIDSearch, 10000}}
	for _, tt := range tests {
		if got := Expected(tt.op, 10000); got != tt.want {
			t.Errorf("Expected(%s) = %d, want %d", tt.op, got, tt.want)
		}
	}
	var b bytes.Buffer
	if err := (Result{Seconds: 1.5, Items: 2, Bytes: 3}).Write(&b); err != nil || b.String() != "{\"seconds\":1.5,\"items\":2,\"bytes\":3}\n" {
		t.Errorf("Write: %q, %v", b.String(), err)
	}
}

func TestServerFromEnv(t *testing.T) {
	t.Setenv(EnvAddr, "127.0.0.1:1")
	t.Setenv(EnvUser, "u")
	t.Setenv(EnvPassword, "")
	if _, err := ServerFromEnv(); !errors.Is(err, ErrUsage) {
		t.Errorf("missing password: %v", err)
	}
	t.Setenv(EnvPassword, "p")
	if s, err := ServerFromEnv(); err != nil || s != (Server{"127.0.0.1:1", "u", "p"}) {
		t.Errorf("ServerFromEnv = %+v, %v", s, err)
	}
}
