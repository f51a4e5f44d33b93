package imapengine

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Dial connects over plain TCP (imaplib's IMAP4(host, port)), reads the greeting
// and learns the capabilities. addr is "host:port"; a missing port means 143.
// Logging in over the resulting cleartext connection needs
// Options.AllowPlaintextAuth; prefer DialTLS or DialStartTLS.
func Dial(ctx context.Context, addr string, opts *Options) (*Client, error) {
	return dialTCP(ctx, addr, Port, false, opts)
}

// DialTLS connects with implicit TLS (imaplib's IMAP4_SSL), port 993 by default.
// Unlike imaplib the certificate and host name are verified unless the caller's
// Options.TLSConfig says otherwise; TLS 1.2 is the minimum.
func DialTLS(ctx context.Context, addr string, opts *Options) (*Client, error) {
	return dialTCP(ctx, addr, TLSPort, true, opts)
}

// DialStartTLS connects over plain TCP and upgrades with STARTTLS before
// returning. It fails closed: a PREAUTH greeting (ErrPreauthPlaintext), a server
// without STARTTLS (ErrTLSRequired), a refused upgrade, or plaintext bytes
// injected after the server's OK (ErrSTARTTLSInjection) all end the connection
// before any credential is sent.
func DialStartTLS(ctx context.Context, addr string, opts *Options) (*Client, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.startTLS = true
	c, err := dialTCP(ctx, addr, Port, false, &o)
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) {
			// The server refused to tell its capabilities: STARTTLS cannot
			// be confirmed, so the connection is not trusted.
			return nil, fmt.Errorf("%w: %w", ErrTLSRequired, err)
		}
		return nil, err
	}
	if _, err := c.StartTLS(ctx, o.TLSConfig); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// NewClient runs the IMAP protocol over an established connection (for example a
// connection from a custom dialer or a net.Pipe). The client owns conn from now
// on. If conn is a *tls.Conn the client treats it as TLS.
func NewClient(ctx context.Context, conn net.Conn, opts *Options) (*Client, error) {
	c := newClient(opts)
	if c.opts.Timeout < 0 {
		conn.Close()
		return nil, ErrInvalidTimeout
	}
	c.kind = kindConn
	if _, ok := conn.(*tls.Conn); ok {
		c.tls = true
	}
	c.attach(conn, conn, conn)
	if err := c.connect(ctx); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

func splitHostPort(addr string, defPort int) (string, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		// No port given.
		host = addr
		if host == "" {
			host = "localhost"
		}
		return host, defPort, nil
	}
	if host == "" {
		host = "localhost"
	}
	p, err := strconv.Atoi(ps)
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("imapengine: bad port in %q", addr)
	}
	return host, p, nil
}

func dialTCP(ctx context.Context, addr string, defPort int, implicitTLS bool, opts *Options) (*Client, error) {
	c := newClient(opts)
	if c.opts.Timeout < 0 {
		return nil, ErrInvalidTimeout
	}
	host, port, err := splitHostPort(addr, defPort)
	if err != nil {
		return nil, err
	}
	c.host, c.port = host, port
	dctx, cancel := context.WithTimeout(ctx, c.opts.connectTimeout())
	defer cancel()
	var d interface {
		DialContext(context.Context, string, string) (net.Conn, error)
	} = &net.Dialer{}
	if c.opts.Dialer != nil {
		d = c.opts.Dialer
	}
	conn, err := d.DialContext(dctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, connectErr(ctx, dctx, err)
	}
	c.kind = kindTCP
	if implicitTLS {
		c.kind = kindTLS
		tc := tls.Client(conn, c.tlsConfig())
		if err := tc.HandshakeContext(dctx); err != nil {
			conn.Close()
			if !isConnEnd(err) {
				err = fmt.Errorf("%w: %w", ErrTLSHandshake, err)
			}
			return nil, connectErr(ctx, dctx, err)
		}
		conn = tc
		c.tls = true
	}
	c.attach(conn, conn, conn)
	if err := c.connect(ctx); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// tlsConfig returns the TLS configuration to use: the caller's, cloned, with
// ServerName defaulted to the host and MinVersion raised to TLS 1.2.
func (c *Client) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if c.opts.TLSConfig != nil {
		cfg = c.opts.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = c.host
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// attach installs a transport. conn may be nil (streams).
func (c *Client) attach(conn net.Conn, rw io.ReadWriter, closer io.Closer) {
	c.conn = conn
	c.rw = rw
	c.closer = closer
	c.r = newWireReader(rw, c.limits)
	c.r.SetStream(c.streamFor)
}

// connect reads the greeting and capabilities (imaplib's _connect), then starts
// the reader goroutine.
func (c *Client) connect(ctx context.Context) error {
	c.mu.Lock()
	c.tagPrefix = newTagPrefix()
	c.mu.Unlock()
	c.trace.log1(1, "new IMAP4 connection", "tag", c.tagPrefix)

	// The greeting is read synchronously, under the greeting deadline.
	gctx, cancel := context.WithTimeout(ctx, c.opts.greetingTimeout())
	defer cancel()
	stop := context.AfterFunc(gctx, func() {
		c.closeWith(fmt.Errorf("%w: no greeting", ErrTimeout))
	})
	resp, err := c.r.ReadResponse()
	stop()
	if err != nil {
		if gctx.Err() != nil && ctx.Err() == nil {
			return &Error{Kind: KindAbort, Msg: "timeout waiting for greeting", Err: ErrTimeout}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return c.connError(err)
	}
	c.traceResponse(resp)
	line := resp.Lines[0]
	obs := c.observe(resp)
	kind, err := c.dispatch(resp, &obs)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if kind != respContinuation {
		c.welcome = line
	}
	_, preauth := c.untagged["PREAUTH"]
	_, ok := c.untagged["OK"]
	switch {
	case kind == respUntagged && preauth:
		c.state = StateAuth
	case kind == respUntagged && ok:
		c.state = StateNonAuth
	default:
		_, bye := c.untagged["BYE"]
		c.mu.Unlock()
		e := errorf("invalid greeting: %s", decodeReplace(line))
		if bye {
			e.Err = ErrServerBye
		}
		return e
	}
	if c.state == StateAuth && c.opts.startTLS && !c.tls {
		c.mu.Unlock()
		return &Error{Kind: KindAbort, Msg: "PREAUTH on unencrypted connection", Err: ErrPreauthPlaintext}
	}
	caps, had := c.untagged["CAPABILITY"]
	if had {
		delete(c.untagged, "CAPABILITY")
		c.setCapsLocked(caps)
	}
	c.mu.Unlock()
	c.startReader()
	if !had {
		if err := c.refreshCapabilities(ctx); err != nil {
			return err
		}
	}
	return c.checkVersion()
}

func (c *Client) checkVersion() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trace.log1(3, "CAPABILITIES", "caps", c.caps)
	for _, v := range AllowedVersions {
		if c.hasCapLocked(v) {
			c.proto = v
			return nil
		}
	}
	return errorf("server not IMAP4 compliant")
}

// refreshCapabilities sends CAPABILITY and installs the last CAPABILITY
// response, which it pops.
func (c *Client) refreshCapabilities(ctx context.Context) error {
	typ, _, err := c.run(ctx, &cmd{name: "CAPABILITY"})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	caps, ok := c.untagged["CAPABILITY"]
	if !ok || typ != "OK" {
		return errorf("no CAPABILITY response from server")
	}
	delete(c.untagged, "CAPABILITY")
	c.setCapsLocked(caps)
	return nil
}

// setCapsLocked installs the last of caps as the capability list.
func (c *Client) setCapsLocked(caps []Datum) {
	if len(caps) == 0 {
		return
	}
	last := caps[len(caps)-1].Bytes()
	c.caps = strings.Fields(strings.ToUpper(string(last)))
}

// decodeReplace decodes b as UTF-8, replacing invalid bytes, like Python's
// errors='replace'.
func decodeReplace(b []byte) string { return strings.ToValidUTF8(string(b), "\uFFFD") }

var _ = time.Second
var _ = errors.New

// connectErr marks a connect or handshake that ran out of the connect
// timeout (not the caller's context) as ErrTimeout.
func connectErr(ctx, dctx context.Context, err error) error {
	if dctx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: connect: %w", ErrTimeout, err)
	}
	return err
}
