package imaptest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"reflect"
	"testing"
	"time"
)

// literalResult is what an APPEND handler observed.
type literalResult struct {
	data, trailer []byte
	err           error
}

func appendServer(t *testing.T, results chan<- literalResult) *Server {
	return NewServer(t, Config{Capabilities: "ENABLE UTF8=ACCEPT", Handlers: map[string]HandlerFunc{
		"APPEND": func(c *Conn, cmd *Command) {
			data, trailer, err := c.ReadLiteral(cmd)
			results <- literalResult{data, trailer, err}
			if err != nil {
				c.Tagged(cmd, "BAD "+err.Error())
				return
			}
			c.Tagged(cmd, "OK okay")
		},
	}})
}

func TestReadLiteral(t *testing.T) {
	msg := "Subject: üñí©öðé\r\n"
	tests := []struct {
		name        string
		line        string // command line sent first
		waitPlus    bool   // client waits for "+" before the payload
		payload     string // sent after the "+" (or at once)
		wantData    string
		wantTrailer string
		wantErr     error
		wantReply   string
	}{
		{"utf8 append", "A1 APPEND INBOX UTF8 (~{25}\r\n", true, msg + ")\r\n", msg, ")\r\n", nil, "A1 OK okay"},
		{"plain append", "A2 APPEND INBOX {5}\r\n", true, "hello\r\n", "hello", "\r\n", nil, "A2 OK okay"},
		{"zero length", "A3 APPEND INBOX {0}\r\n", true, "\r\n", "", "\r\n", nil, "A3 OK okay"},
		{"non-sync literal", "A4 APPEND INBOX {5+}\r\n", false, "hello\r\n", "hello", "\r\n", nil, "A4 OK okay"},
		{"early data", "A5 APPEND INBOX {5}\r\nhello\r\n", false, "", "", "", ErrEarlyLiteral, "A5 BAD " + ErrEarlyLiteral.Error()},
		{"no marker", "A6 APPEND INBOX\r\n", false, "", "", "", ErrNoLiteral, "A6 BAD " + ErrNoLiteral.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := make(chan literalResult, 1)
			s := appendServer(t, results)
			c := dial(t, s.Addr())
			c.expect(DefaultGreeting)
			c.send(tt.line)
			if tt.waitPlus {
				c.expect("+")
			}
			if tt.payload != "" {
				c.send(tt.payload)
			}
			var got literalResult
			select {
			case got = <-results:
			case <-time.After(testTimeout):
				t.Fatal("handler did not finish")
			}
			if !errors.Is(got.err, tt.wantErr) || (tt.wantErr == nil && got.err != nil) {
				t.Fatalf("err = %v, want %v", got.err, tt.wantErr)
			}
			if string(got.data) != tt.wantData || string(got.trailer) != tt.wantTrailer {
				t.Errorf("data %q trailer %q, want %q %q", got.data, got.trailer, tt.wantData, tt.wantTrailer)
			}
			c.expect(tt.wantReply)
		})
	}
}

func TestReadLineDoesNotOverRead(t *testing.T) {
	got := make(chan [][]byte, 1)
	s := NewServer(t, Config{NoGreeting: true, Script: func(c *Conn) {
		l1, _ := c.ReadLine()
		nothing := c.ClientSentNothing(20 * time.Millisecond)
		c.Send("go")
		l2, _ := c.ReadLine()
		rest, _ := c.ReadN(4)
		var flag []byte
		if nothing {
			flag = []byte("nothing")
		}
		got <- [][]byte{l1, flag, l2, rest}
	}})
	c := dial(t, s.Addr())
	c.send("one\n still one\r\n")
	c.expect("go")
	c.send("two\r\nabcd")
	r := <-got
	want := [][]byte{[]byte("one\n still one\r\n"), []byte("nothing"), []byte("two\r\n"), []byte("abcd")}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got %q, want %q", r, want)
	}
}

func TestClientSentNothingKeepsByte(t *testing.T) {
	got := make(chan string, 1)
	s := NewServer(t, Config{NoGreeting: true, Script: func(c *Conn) {
		c.Send("ready")
		for c.ClientSentNothing(10 * time.Millisecond) {
			if c.Err() != nil {
				return
			}
		}
		l, err := c.ReadLine()
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(l)
	}})
	c := dial(t, s.Addr())
	c.expect("ready")
	time.Sleep(30 * time.Millisecond)
	c.send("A1 NOOP\r\n")
	if l := <-got; l != "A1 NOOP\r\n" {
		t.Errorf("got %q", l)
	}
}

func TestReadLimits(t *testing.T) {
	errs := make(chan error, 2)
	s := NewServer(t, Config{NoGreeting: true, Script: func(c *Conn) {
		_, err := c.ReadN(MaxLiteralSize + 1)
		errs <- err
		_, err = c.ReadLine()
		errs <- err
	}})
	c := dial(t, s.Addr())
	go func() {
		_, _ = c.nc.Write(bytes.Repeat([]byte("A"), MaxLineLength+10))
	}()
	if err := <-errs; !errors.Is(err, ErrLiteralTooLarge) {
		t.Errorf("ReadN: %v, want ErrLiteralTooLarge", err)
	}
	if err := <-errs; !errors.Is(err, ErrLineTooLong) {
		t.Errorf("ReadLine: %v, want ErrLineTooLong", err)
	}
}

func TestIdleHandlers(t *testing.T) {
	fetch := "* 1 FETCH (BODY[HEADER.FIELDS (DATE)] {41}"
	tests := []struct {
		name    string
		h       HandlerFunc
		before  []string // lines up to (and including) the point DONE is sent
		done    string
		after   []string
		minTime time.Duration
	}{
		{"idle", IdleHandler(),
			[]string{"* 0 EXISTS", "+ idling", "* 2 EXISTS", fetch, "Date: Fri, 06 Dec 2024 06:00:00 +0000", "", ")", "* 3 EXISTS", "* 1 RECENT"},
			"DONE\r\n", []string{"* 9 RECENT", "A1 OK Idle completed"}, IdleRecentDelay},
		{"idle bad done", IdleHandler(),
			[]string{"* 0 EXISTS", "+ idling", "* 2 EXISTS", fetch, "Date: Fri, 06 Dec 2024 06:00:00 +0000", "", ")", "* 3 EXISTS", "* 1 RECENT"},
			"NOPE\r\n", []string{"A1 BAD Expected DONE"}, IdleRecentDelay},
		{"delayed packet", IdleDelayedPacketHandler(),
			[]string{"+ idling", "* 1 EXISTS"},
			"DONE\r\n", []string{"A1 OK Idle completed"}, IdleFirstSplitDelay + IdleSecondSplitDelay},
		{"deny", IdleDenyHandler(), nil, "", []string{"A1 NO IDLE is not allowed at this time"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t, Config{Capabilities: "IDLE", Handlers: map[string]HandlerFunc{"IDLE": tt.h}})
			c := dial(t, s.Addr())
			c.expect(DefaultGreeting)
			start := time.Now()
			c.send("A1 IDLE\r\n")
			c.expect(tt.before...)
			if d := time.Since(start); d < tt.minTime {
				t.Errorf("transcript took %v, want >= %v", d, tt.minTime)
			}
			if tt.done != "" {
				c.send(tt.done)
			}
			c.expect(tt.after...)
		})
	}
}

func TestAuthHandlers(t *testing.T) {
	tests := []struct {
		name      string
		h         HandlerFunc
		args      string
		challenge string
		reply     string
		want      string
		wantArgs  any
	}{
		{"cram ok", AuthCRAMMD5Handler(), "CRAM-MD5", "+ " + CRAMMD5Challenge, CRAMMD5Response, "A1 OK CRAM-MD5 successful", nil},
		{"cram bad", AuthCRAMMD5Handler(), "CRAM-MD5", "+ " + CRAMMD5Challenge, "eA==\r\n", "A1 NO No access", nil},
		{"plain", AuthPlainHandler(), "PLAIN", "+", "AHByZW0AcGFzcw==\r\n", "A1 OK Logged in.", []string{"PLAIN"}},
		{"fake", FakeAuthHandler(), "MYAUTH", "+", "ZmFrZQ==\r\n", "A1 OK FAKEAUTH successful", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t, Config{Handlers: map[string]HandlerFunc{"AUTHENTICATE": tt.h}})
			c := dial(t, s.Addr())
			c.expect(DefaultGreeting)
			c.send("A1 AUTHENTICATE " + tt.args + "\r\n")
			c.expect(tt.challenge)
			c.send(tt.reply)
			c.expect(tt.want)
			if got, _ := s.Value(KeyResponse).([]byte); string(got) != tt.reply {
				t.Errorf("response = %q, want %q", got, tt.reply)
			}
			if got := s.Value(KeyAuthArgs); !reflect.DeepEqual(got, tt.wantArgs) && tt.wantArgs != nil {
				t.Errorf("auth_args = %#v, want %#v", got, tt.wantArgs)
			}
		})
	}
}

func TestStartTLSHandler(t *testing.T) {
	s := NewServer(t, Config{Capabilities: "STARTTLS", Handlers: map[string]HandlerFunc{"STARTTLS": StartTLSHandler()}})
	c := dial(t, s.Addr())
	c.expect(DefaultGreeting)
	c.send("A1 STARTTLS\r\n")
	c.expect("A1 OK Begin TLS negotiation now")
	if c.r.Buffered() != 0 {
		t.Fatal("plaintext bytes after the STARTTLS reply")
	}
	tc := tls.Client(c.nc, &tls.Config{RootCAs: s.CertPool(), ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	tlsc := newClient(t, tc)
	tlsc.send("A2 CAPABILITY\r\n")
	tlsc.expect("* CAPABILITY IMAP4rev1 STARTTLS", "A2 OK CAPABILITY completed")
	tlsc.send("A3 LOGOUT\r\n")
	tlsc.expect("* BYE IMAP4ref1 Server logging out", "A3 OK LOGOUT completed")
	tlsc.expectEOF()
}

func TestStartTLSTwice(t *testing.T) {
	errs := make(chan error, 1)
	s := NewServer(t, Config{TLS: true, Handlers: map[string]HandlerFunc{
		"STARTTLS": func(c *Conn, cmd *Command) {
			err := c.StartTLS()
			errs <- err
			c.Tagged(cmd, "BAD "+err.Error())
		},
	}})
	c := dialTLS(t, s.Addr(), &tls.Config{RootCAs: s.CertPool(), ServerName: "localhost"})
	c.expect(DefaultGreeting)
	c.send("A1 STARTTLS\r\n")
	if err := <-errs; !errors.Is(err, ErrTLSActive) {
		t.Errorf("err = %v, want ErrTLSActive", err)
	}
	c.expect("A1 BAD " + ErrTLSActive.Error())
}
