package imapengine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
)

// StartTLS upgrades a plain connection with STARTTLS (imaplib's starttls). cfg
// nil means Options.TLSConfig, or a verifying default. It refuses when TLS is
// already established or the server does not advertise STARTTLS. After the
// server's OK it fails closed with ErrSTARTTLSInjection if any plaintext byte
// followed the OK; otherwise it performs the handshake, discards every pre-TLS
// state (untagged data, capabilities) and asks for the capabilities again. The
// result is the untagged STARTTLS data, normally ('OK', [None]).
func (c *Client) StartTLS(ctx context.Context, cfg *tls.Config) (Result, error) {
	c.mu.Lock()
	if c.tls {
		c.mu.Unlock()
		return Result{}, &Error{Kind: KindAbort, Msg: "TLS session already established"}
	}
	if c.kind == kindStream || c.conn == nil {
		c.mu.Unlock()
		return Result{}, &Error{Kind: KindError, Msg: "STARTTLS requires a network connection", Err: ErrNotSupported}
	}
	if !c.hasCapLocked("STARTTLS") {
		c.mu.Unlock()
		if c.opts.startTLS {
			c.closeWith(ErrTLSRequired)
		}
		return Result{}, &Error{Kind: KindAbort, Msg: "TLS not supported by server", Err: ErrTLSRequired}
	}
	c.mu.Unlock()
	if cfg == nil {
		cfg = c.tlsConfig()
	} else {
		saved := c.opts.TLSConfig
		c.opts.TLSConfig = cfg
		cfg = c.tlsConfig()
		c.opts.TLSConfig = saved
	}

	var pp *pending
	k := &cmd{name: "STARTTLS", pauseAfter: true, onSent: func(p *pending) { pp = p }}
	typ, text, err := c.run(ctx, k)
	if err != nil {
		if c.opts.startTLS {
			c.closeWith(ErrTLSRequired)
		}
		return Result{}, err
	}
	if typ != "OK" {
		if c.opts.startTLS {
			c.closeWith(ErrTLSRequired)
		}
		return Result{}, &Error{Kind: KindError, Msg: "Couldn't establish TLS session", Err: newStatusError("STARTTLS", typ, text)}
	}
	// The reader goroutine is paused right after the OK (see readLoop).
	c.mu.Lock()
	resume := c.resume
	buffered := pp.buffered
	c.mu.Unlock()
	if resume == nil {
		return Result{}, c.connError(c.Err())
	}
	if buffered > 0 {
		c.closeWith(ErrSTARTTLSInjection)
		return Result{}, &Error{Kind: KindAbort, Msg: fmt.Sprintf("%d bytes of plaintext after STARTTLS response", buffered), Err: ErrSTARTTLSInjection}
	}
	tc := tls.Client(c.conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, c.opts.connectTimeout())
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		herr := handshakeErr(err)
		c.closeWith(herr)
		msg := "TLS handshake failed: " + err.Error()
		if errors.Is(herr, ErrSTARTTLSInjection) {
			msg = "plaintext instead of a TLS handshake after STARTTLS response: " + err.Error()
		}
		return Result{}, &Error{Kind: KindAbort, Msg: msg, Err: herr}
	}
	if !tc.ConnectionState().HandshakeComplete {
		c.closeWith(ErrProtocol)
		return Result{}, &Error{Kind: KindAbort, Msg: "TLS handshake incomplete", Err: ErrProtocol}
	}
	c.mu.Lock()
	if c.resume != resume {
		c.mu.Unlock()
		return Result{}, c.connError(c.Err())
	}
	c.conn = tc
	c.rw = tc
	c.closer = tc
	c.tls = true
	c.untagged = make(map[string][]Datum)
	c.nuntagged = 0
	c.caps = nil
	c.contResp, c.contSet = nil, false
	c.resume = nil
	resume <- tc
	c.mu.Unlock()
	if err := c.refreshCapabilities(ctx); err != nil {
		return Result{}, err
	}
	if err := c.checkVersion(); err != nil {
		return Result{}, err
	}
	return c.Response("STARTTLS"), nil
}

// handshakeErr classifies a failed TLS handshake: ErrTLSHandshake with the
// crypto/tls error, plus ErrSTARTTLSInjection when the bytes read where the
// server's first record belongs were not TLS at all (a record header error:
// plaintext injected after the tagged OK). A connection that ended or timed
// out during the handshake keeps its own error (EOF, deadline).
func handshakeErr(err error) error {
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &rh):
		return fmt.Errorf("%w: %w: %w", ErrSTARTTLSInjection, ErrTLSHandshake, err)
	case !isConnEnd(err):
		return fmt.Errorf("%w: %w", ErrTLSHandshake, err)
	}
	return err
}

// isConnEnd reports whether err is the connection ending or timing out
// rather than a TLS failure.
func isConnEnd(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || (errors.As(err, &ne) && ne.Timeout())
}
