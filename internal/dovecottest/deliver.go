package dovecottest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// DeliverTimeout bounds one whole Deliver exchange (connect, LOGIN, APPEND,
// LOGOUT).
const DeliverTimeout = 10 * time.Second

// maxDeliverLine bounds a response line read by Deliver.
const maxDeliverLine = 64 << 10

// ErrDeliver reports that the server refused or broke a Deliver exchange.
var ErrDeliver = errors.New("dovecottest: deliver failed")

// Deliver appends msg (CRLF line endings) to user's INBOX through a separate
// plain connection, logged in as the master user, as a second client or an
// MTA would. It fails tb if the server does not answer OK.
func (s *Server) Deliver(tb testing.TB, user string, msg []byte) {
	tb.Helper()
	if err := s.DeliverTo(user, "INBOX", msg); err != nil {
		tb.Fatalf("%v", err)
	}
}

// DeliverTo appends msg to mailbox of user and returns an error instead of
// failing a test; it is safe to call from any goroutine.
func (s *Server) DeliverTo(user, mailbox string, msg []byte) error {
	name, pw := s.MasterLogin(user)
	return AppendAs(s.PlainAddr, name, pw, mailbox, msg)
}

// AppendAs appends msg to mailbox over a plain connection to addr, logged in
// with LOGIN as name: the same hand-written exchange as Deliver, for any IMAP
// server that allows LOGIN without TLS on loopback (internal/imapservers uses
// it for Cyrus and Courier). It is safe to call from any goroutine.
func AppendAs(addr, name, pw, mailbox string, msg []byte) error {
	conn, err := net.DialTimeout("tcp", addr, DeliverTimeout)
	if err != nil {
		return fmt.Errorf("dovecottest: deliver: %w", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(DeliverTimeout)); err != nil {
		return fmt.Errorf("dovecottest: deliver: %w", err)
	}
	rc := rawConn{r: bufio.NewReaderSize(conn, 4096), w: conn}
	if _, err := rc.readUntil("*"); err != nil { // greeting
		return err
	}
	if err := rc.command("L1", "LOGIN "+quote(name)+" "+quote(pw)); err != nil {
		return err
	}
	if err := rc.send("A1 APPEND " + quote(mailbox) + " {" + strconv.Itoa(len(msg)) + "}\r\n"); err != nil {
		return err
	}
	line, err := rc.readUntil("+")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+") {
		return fmt.Errorf("%w: APPEND: %s", ErrDeliver, line)
	}
	if _, err := rc.w.Write(append(append([]byte{}, msg...), '\r', '\n')); err != nil {
		return fmt.Errorf("dovecottest: deliver: %w", err)
	}
	if err := rc.expectOK("A1"); err != nil {
		return err
	}
	return rc.command("Z1", "LOGOUT")
}

// rawConn is the smallest IMAP client: tagged commands without literals from
// the server, read line by line.
type rawConn struct {
	r *bufio.Reader
	w net.Conn
}

func (c rawConn) send(s string) error {
	if _, err := c.w.Write([]byte(s)); err != nil {
		return fmt.Errorf("dovecottest: deliver: %w", err)
	}
	return nil
}

func (c rawConn) command(tag, cmd string) error {
	if err := c.send(tag + " " + cmd + "\r\n"); err != nil {
		return err
	}
	return c.expectOK(tag)
}

func (c rawConn) expectOK(tag string) error {
	line, err := c.readUntil(tag + " ")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, tag+" OK") {
		return fmt.Errorf("%w: %s", ErrDeliver, line)
	}
	return nil
}

// readUntil reads lines until one starts with prefix (or, while waiting for
// a continuation, a tagged line ends the wait) and returns it without CRLF.
// Untagged lines in between are skipped.
func (c rawConn) readUntil(prefix string) (string, error) {
	for {
		var b []byte
		for {
			part, isPrefix, err := c.r.ReadLine()
			if err != nil {
				return "", fmt.Errorf("dovecottest: deliver: %w", err)
			}
			b = append(b, part...)
			if len(b) > maxDeliverLine {
				return "", fmt.Errorf("%w: response line too long", ErrDeliver)
			}
			if !isPrefix {
				break
			}
		}
		line := string(b)
		switch {
		case strings.HasPrefix(line, prefix):
			return line, nil
		case prefix == "*" || strings.HasPrefix(line, "*"):
			continue
		default:
			return line, nil // a tagged reply where a continuation was awaited
		}
	}
}

// quote makes an IMAP quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
