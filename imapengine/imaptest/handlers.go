package imaptest

import (
	"strings"
	"time"
)

// Keys of the shared scratch state (Server.Value) written by the built-in and
// helper handlers, named after the attributes of CPython's test server.
const (
	// KeyLogged holds the LOGIN arguments ([]string); LOGOUT deletes it.
	KeyLogged = "logged"
	// KeySelected holds the SELECT or EXAMINE arguments ([]string); a
	// successful UNSELECT deletes it.
	KeySelected = "is_selected"
	// KeyResponse holds the client's continuation reply line ([]byte, CRLF
	// included) recorded by the AUTHENTICATE helpers.
	KeyResponse = "response"
	// KeyAuthArgs holds the AUTHENTICATE arguments ([]string) recorded by
	// AuthPlainHandler.
	KeyAuthArgs = "auth_args"
)

// builtins are the commands SimpleIMAPHandler answers, by upper-case name.
var builtins = map[string]HandlerFunc{
	"CAPABILITY": handleCapability,
	"LOGOUT":     handleLogout,
	"LOGIN":      handleLogin,
	"SELECT":     handleSelect("READ-WRITE"),
	"EXAMINE":    handleSelect("READ-ONLY"),
	"UNSELECT":   handleUnselect,
}

func handleCapability(c *Conn, cmd *Command) {
	line := strings.TrimSpace("* CAPABILITY IMAP4rev1 " + c.srv.cfg.Capabilities)
	c.Send(line)
	c.Tagged(cmd, "OK CAPABILITY completed")
}

func handleLogout(c *Conn, cmd *Command) {
	c.srv.SetValue(KeyLogged, nil)
	c.Send("* BYE IMAP4ref1 Server logging out")
	c.Tagged(cmd, "OK LOGOUT completed")
	c.Close()
}

func handleLogin(c *Conn, cmd *Command) {
	c.srv.SetValue(KeyLogged, append([]string{}, cmd.Args...))
	c.Tagged(cmd, "OK LOGIN completed")
}

// handleSelect answers SELECT ("READ-WRITE") or EXAMINE ("READ-ONLY").
func handleSelect(code string) HandlerFunc {
	return func(c *Conn, cmd *Command) {
		c.srv.SetValue(KeySelected, append([]string{}, cmd.Args...))
		c.Send("* 2 EXISTS")
		c.Tagged(cmd, "OK ["+code+"] "+cmd.Name+" completed.")
	}
}

func handleUnselect(c *Conn, cmd *Command) {
	// Python's truthiness: a SELECT without arguments stored [] (false).
	if args, ok := c.srv.Value(KeySelected).([]string); !ok || len(args) == 0 {
		c.Tagged(cmd, "BAD No mailbox selected")
		return
	}
	c.srv.SetValue(KeySelected, nil)
	c.Tagged(cmd, "OK Returned to authenticated state. (Success)")
}

// SimpleHandler is CPython's make_simple_handler: it sends each untagged
// line verbatim (lines are complete, e.g. "* 2 EXISTS"), then
// "<tag> OK <completed>", or "<tag> OK <NAME> completed" if completed is "".
func SimpleHandler(untagged []string, completed string) HandlerFunc {
	lines := append([]string{}, untagged...)
	return func(c *Conn, cmd *Command) {
		for _, l := range lines {
			c.Send(l)
		}
		text := completed
		if text == "" {
			text = cmd.Name + " completed"
		}
		c.Tagged(cmd, "OK "+text)
	}
}

// Timing and payload of the IDLE handlers, as in CPython's test suite.
const (
	// IdleRecentDelay is IdleHandler's pause before "* 1 RECENT".
	IdleRecentDelay = time.Second
	// IdleFirstSplitDelay and IdleSecondSplitDelay are
	// IdleDelayedPacketHandler's pauses inside "* 1 EXISTS".
	IdleFirstSplitDelay  = 200 * time.Millisecond
	IdleSecondSplitDelay = time.Second
	// IdleLiteral is the 41-byte FETCH literal IdleHandler sends.
	IdleLiteral = "Date: Fri, 06 Dec 2024 06:00:00 +0000\r\n\r\n"
)

// IdleHandler reproduces CPython's IdleCmdHandler (advertise "IDLE" in
// Config.Capabilities): "* 0 EXISTS", "+ idling", "* 2 EXISTS", a FETCH with
// the IdleLiteral literal sent in three writes, "* 3 EXISTS", a pause of
// IdleRecentDelay, "* 1 RECENT"; then on "DONE\r\n" it sends "* 9 RECENT"
// and "<tag> OK Idle completed", otherwise "<tag> BAD Expected DONE".
func IdleHandler() HandlerFunc {
	return func(c *Conn, cmd *Command) {
		c.Send("* 0 EXISTS")
		c.Send("+ idling")
		c.Send("* 2 EXISTS")
		c.Send("* 1 FETCH (BODY[HEADER.FIELDS (DATE)] {41}")
		c.SendRaw([]byte(IdleLiteral))
		c.Send(")")
		c.Send("* 3 EXISTS")
		if !c.Sleep(IdleRecentDelay) {
			return
		}
		c.Send("* 1 RECENT")
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		if string(line) == "DONE\r\n" {
			c.Send("* 9 RECENT")
			c.Tagged(cmd, "OK Idle completed")
			return
		}
		c.Tagged(cmd, "BAD Expected DONE")
	}
}

// IdleDelayedPacketHandler reproduces CPython's IdleCmdDelayedPacketHandler
// (advertise "IDLE"): "+ idling", then "* 1 EXISTS\r\n" in three writes
// ("* 1 EX", IdleFirstSplitDelay, "IS", IdleSecondSplitDelay, "TS\r\n"); then
// "<tag> OK Idle completed" on "DONE\r\n", otherwise "<tag> BAD Expected DONE".
func IdleDelayedPacketHandler() HandlerFunc {
	return func(c *Conn, cmd *Command) {
		c.Send("+ idling")
		c.SendRaw([]byte("* 1 EX"))
		if !c.Sleep(IdleFirstSplitDelay) {
			return
		}
		c.SendRaw([]byte("IS"))
		if !c.Sleep(IdleSecondSplitDelay) {
			return
		}
		c.SendRaw([]byte("TS\r\n"))
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		if string(line) == "DONE\r\n" {
			c.Tagged(cmd, "OK Idle completed")
			return
		}
		c.Tagged(cmd, "BAD Expected DONE")
	}
}

// IdleDenyHandler reproduces CPython's IdleCmdDenyHandler: IDLE gets
// "<tag> NO IDLE is not allowed at this time".
func IdleDenyHandler() HandlerFunc {
	return func(c *Conn, cmd *Command) {
		c.Tagged(cmd, "NO IDLE is not allowed at this time")
	}
}

// CRAM-MD5 exchange of CPython's AuthHandler_CRAM_MD5 (user "tim", password
// "tanstaaftanstaaf").
const (
	// CRAMMD5Challenge is the base64 challenge sent after "+ ".
	CRAMMD5Challenge = "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ="
	// CRAMMD5Response is the only reply line accepted (CRLF included).
	CRAMMD5Response = "dGltIGYxY2E2YmU0NjRiOWVmYTFjY2E2ZmZkNmNmMmQ5ZjMy\r\n"
)

// AuthCRAMMD5Handler reproduces AuthHandler_CRAM_MD5 as an AUTHENTICATE
// handler (advertise "LOGINDISABLED AUTH=CRAM-MD5"): it sends
// "+ <CRAMMD5Challenge>", records the reply line under KeyResponse, and
// answers "<tag> OK CRAM-MD5 successful" if it equals CRAMMD5Response, else
// "<tag> NO No access".
func AuthCRAMMD5Handler() HandlerFunc {
	return func(c *Conn, cmd *Command) {
		c.Send("+ " + CRAMMD5Challenge)
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		c.srv.SetValue(KeyResponse, line)
		if string(line) == CRAMMD5Response {
			c.Tagged(cmd, "OK CRAM-MD5 successful")
			return
		}
		c.Tagged(cmd, "NO No access")
	}
}

// AuthPlainHandler reproduces AuthHandler_PLAIN as an AUTHENTICATE handler
// (advertise "LOGINDISABLED AUTH=PLAIN"): it records the arguments under
// KeyAuthArgs, sends "+", records the reply line under KeyResponse and
// answers "<tag> OK Logged in.".
func AuthPlainHandler() HandlerFunc {
	return func(c *Conn, cmd *Command) {
		c.srv.SetValue(KeyAuthArgs, append([]string{}, cmd.Args...))
		c.Send("+")
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		c.srv.SetValue(KeyResponse, line)
		c.Tagged(cmd, "OK Logged in.")
	}
}

// FakeAuthHandler is the ad-hoc AUTHENTICATE handler of many CPython tests:
// it sends "+", records the client's next line under KeyResponse and answers
// "<tag> OK FAKEAUTH successful".
func FakeAuthHandler() HandlerFunc {
	return func(c *Conn, cmd *Command) {
		c.Send("+")
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		c.srv.SetValue(KeyResponse, line)
		c.Tagged(cmd, "OK FAKEAUTH successful")
	}
}

// StartTLSHandler answers STARTTLS with "<tag> OK Begin TLS negotiation now"
// and upgrades the connection with Conn.StartTLS (advertise "STARTTLS"). A
// failed handshake closes the connection.
func StartTLSHandler() HandlerFunc {
	return func(c *Conn, cmd *Command) {
		c.Tagged(cmd, "OK Begin TLS negotiation now")
		if err := c.StartTLS(); err != nil {
			c.Close()
		}
	}
}
