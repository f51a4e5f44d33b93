package imapengine_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"log"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imaptest"
)

// exampleServer is an in-process fake IMAP server on loopback for the runnable
// examples (which have no *testing.T for imaptest.NewServer). Every accepted
// connection is served with imaptest.ServeConn; stop closes the listener and
// every connection and waits for their goroutines.
type exampleServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

// startExampleServer starts serving cfg on 127.0.0.1:0.
func startExampleServer(cfg imaptest.Config) *exampleServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	s := &exampleServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, conn)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				imaptest.ServeConn(conn, cfg)
			}()
		}
	}()
	return s
}

// Addr returns "127.0.0.1:port".
func (s *exampleServer) Addr() string { return s.ln.Addr().String() }

// stop shuts the server down and waits for its goroutines.
func (s *exampleServer) stop() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// exampleTLSConfig returns a server configuration with a fresh self-signed
// certificate for "localhost" and the pool that trusts it.
func exampleTLSConfig() (*tls.Config, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, pool
}

// exampleMessages are the messages of the fake INBOX in ExampleDial.
var exampleMessages = []string{
	"From: alice@example.com\r\nSubject: hello\r\n\r\nHi Bob!\r\n",
	"From: carol@example.com\r\nSubject: lunch\r\n\r\nNoon?\r\n",
}

// fetchRFC822 answers "FETCH n (RFC822)" with message n of exampleMessages.
func fetchRFC822(c *imaptest.Conn, cmd *imaptest.Command) {
	var n int
	if len(cmd.Args) > 0 {
		fmt.Sscan(cmd.Args[0], &n)
	}
	if n < 1 || n > len(exampleMessages) {
		c.Tagged(cmd, "NO no such message")
		return
	}
	msg := exampleMessages[n-1]
	c.SendRaw(fmt.Appendf(nil, "* %d FETCH (RFC822 {%d}\r\n%s)\r\n", n, len(msg), msg))
	c.Tagged(cmd, "OK FETCH completed")
}

// ExampleDial is the example of imaplib's documentation in Go: connect, log
// in, select INBOX, search ALL, fetch each message's RFC822, close the mailbox
// and log out.
func ExampleDial() {
	srv := startExampleServer(imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"SEARCH": imaptest.SimpleHandler([]string{"* SEARCH 1 2"}, ""),
		"FETCH":  fetchRFC822,
		"CLOSE":  imaptest.SimpleHandler(nil, ""),
	}})
	defer srv.stop()
	ctx := context.Background()

	// A real program dials port 993 with DialTLS, or uses DialStartTLS. The fake
	// server is on loopback, so cleartext LOGIN is allowed explicitly.
	m, err := imapengine.Dial(ctx, srv.Addr(), &imapengine.Options{AllowPlaintextAuth: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()
	if _, err := m.Login(ctx, "bob", "secret"); err != nil {
		log.Fatal(err)
	}
	if _, err := m.Select(ctx, "", false); err != nil {
		log.Fatal(err)
	}
	res, err := m.Search(ctx, "", "ALL")
	if err != nil {
		log.Fatal(err)
	}
	for _, num := range strings.Fields(string(res.First())) {
		res, err := m.Fetch(ctx, num, "(RFC822)")
		if err != nil {
			log.Fatal(err)
		}
		// data[0] is the (header, literal) pair; print the literal with Unix
		// line endings.
		msg := strings.ReplaceAll(string(res.Data[0].Literal()), "\r\n", "\n")
		fmt.Printf("Message %s\n%s\n", num, msg)
	}
	if _, err := m.CloseMailbox(ctx); err != nil {
		log.Fatal(err)
	}
	res, err = m.Logout(ctx)
	fmt.Println(res, err)
	// Output:
	// Message 1
	// From: alice@example.com
	// Subject: hello
	//
	// Hi Bob!
	//
	// Message 2
	// From: carol@example.com
	// Subject: lunch
	//
	// Noon?
	//
	// ('BYE', [b'IMAP4ref1 Server logging out']) <nil>
}

// idleHandler accepts IDLE, reports two changes at once and ends on DONE.
func idleHandler(c *imaptest.Conn, cmd *imaptest.Command) {
	c.SendRaw([]byte("+ idling\r\n* 3 EXISTS\r\n* 1 RECENT\r\n"))
	if line, err := c.ReadLine(); err != nil || string(line) != "DONE\r\n" {
		c.Tagged(cmd, "BAD Expected DONE")
		return
	}
	c.Tagged(cmd, "OK Idle completed")
}

// dialIdle connects and logs in to a fresh IDLE-capable fake server.
func dialIdle() (*exampleServer, *imapengine.Client) {
	srv := startExampleServer(imaptest.Config{
		Capabilities: "IDLE",
		Handlers:     map[string]imaptest.HandlerFunc{"IDLE": idleHandler},
	})
	ctx := context.Background()
	m, err := imapengine.Dial(ctx, srv.Addr(), &imapengine.Options{AllowPlaintextAuth: true})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := m.Login(ctx, "bob", "secret"); err != nil {
		log.Fatal(err)
	}
	if _, err := m.Select(ctx, "", false); err != nil {
		log.Fatal(err)
	}
	return srv, m
}

// ExampleClient_Idle waits in IDLE for at most a minute and collects the first
// burst of changes (imaplib's "with M.idle(60) as idler: idler.burst()").
func ExampleClient_Idle() {
	srv, m := dialIdle()
	defer srv.stop()
	defer m.Shutdown()
	ctx := context.Background()

	idler, err := m.Idle(time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	if err := idler.Start(ctx); err != nil {
		log.Fatal(err)
	}
	// Responses arriving within 100ms of each other form one burst.
	burst, err := idler.Burst(ctx, 100*time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range burst {
		fmt.Println(u.Typ, u.Data)
	}
	if err := idler.Done(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("state after IDLE:", m.State())
	// Output:
	// EXISTS [b'3']
	// RECENT [b'1']
	// state after IDLE: SELECTED
}

// ExampleClient_IdleFunc iterates over IDLE responses for a fixed duration,
// like imaplib's "with M.idle(duration) as idler: for typ, data in idler:".
// DONE is sent when the function returns, whatever happens inside it.
func ExampleClient_IdleFunc() {
	srv, m := dialIdle()
	defer srv.stop()
	defer m.Shutdown()
	ctx := context.Background()

	err := m.IdleFunc(ctx, 300*time.Millisecond, func(idler *imapengine.Idler) error {
		for {
			u, ok, err := idler.Next(ctx)
			if err != nil || !ok {
				return err // the duration elapsed (ok false) or the connection failed
			}
			fmt.Println(u.Typ, u.Data)
		}
	})
	fmt.Println("IDLE ended:", err)
	// Output:
	// EXISTS [b'3']
	// RECENT [b'1']
	// IDLE ended: <nil>
}

// ExampleClient_pipelining issues commands from several goroutines on one
// Client. They are written back to back without waiting for each other and
// each call returns when its own tagged completion arrives.
//
// Untagged data accumulates per type, as in imaplib, so concurrent commands
// whose untagged responses share a type (two STATUS, say) may receive each
// other's data; this example runs commands of different types.
func ExampleClient_pipelining() {
	srv := startExampleServer(imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{
		"STATUS":    imaptest.SimpleHandler([]string{`* STATUS INBOX (MESSAGES 2 UNSEEN 1)`}, ""),
		"LIST":      imaptest.SimpleHandler([]string{`* LIST () "/" INBOX`, `* LIST () "/" Sent`}, ""),
		"NAMESPACE": imaptest.SimpleHandler([]string{`* NAMESPACE (("" "/")) NIL NIL`}, ""),
		"NOOP":      imaptest.SimpleHandler(nil, ""),
	}})
	defer srv.stop()
	ctx := context.Background()
	m, err := imapengine.Dial(ctx, srv.Addr(), &imapengine.Options{AllowPlaintextAuth: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()
	if _, err := m.Login(ctx, "bob", "secret"); err != nil {
		log.Fatal(err)
	}

	calls := []func() (imapengine.Result, error){
		func() (imapengine.Result, error) { return m.Status(ctx, "INBOX", "(MESSAGES UNSEEN)") },
		func() (imapengine.Result, error) { return m.List(ctx, "", "*") },
		func() (imapengine.Result, error) { return m.Namespace(ctx) },
		func() (imapengine.Result, error) { return m.Noop(ctx) },
	}
	results := make([]string, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := call()
			results[i] = fmt.Sprint(res, " ", err)
		}()
	}
	wg.Wait()
	for _, r := range results {
		fmt.Println(r)
	}
	if _, err := m.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// ('OK', [b'INBOX (MESSAGES 2 UNSEEN 1)']) <nil>
	// ('OK', [b'() "/" INBOX', b'() "/" Sent']) <nil>
	// ('OK', [b'(("" "/")) NIL NIL']) <nil>
	// ('OK', [b'NOOP completed']) <nil>
}

// ExampleClient_Authenticate answers the server's challenges with a callback,
// imaplib's authobject: it receives each challenge decoded and returns the
// response, which the client base64-encodes.
func ExampleClient_Authenticate() {
	srv := startExampleServer(imaptest.Config{
		Capabilities: "AUTH=X-DEMO",
		Handlers: map[string]imaptest.HandlerFunc{"AUTHENTICATE": func(c *imaptest.Conn, cmd *imaptest.Command) {
			c.Send("+ " + base64.StdEncoding.EncodeToString([]byte("who are you?")))
			line, err := c.ReadLine()
			if err != nil {
				return
			}
			answer, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(line)))
			if err != nil || string(answer) != "bob" {
				c.Tagged(cmd, "NO authentication failed")
				return
			}
			c.Tagged(cmd, "OK X-DEMO authentication successful")
		}},
	})
	defer srv.stop()
	ctx := context.Background()
	m, err := imapengine.Dial(ctx, srv.Addr(), &imapengine.Options{AllowPlaintextAuth: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()

	res, err := m.Authenticate(ctx, "X-DEMO", func(challenge []byte) ([]byte, error) {
		fmt.Printf("challenge: %s\n", challenge)
		if string(challenge) != "who are you?" {
			return nil, imapengine.ErrAuthAborted // sends "*"
		}
		return []byte("bob"), nil
	})
	fmt.Println(res, err)
	fmt.Println(m.State())
	if _, err := m.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// challenge: who are you?
	// ('OK', [b'X-DEMO authentication successful']) <nil>
	// AUTH
}

// ExampleClient_AuthenticateSASL logs in with a ready-made SASL mechanism
// (PlainAuth here; CRAMMD5Auth, LoginAuth, OAuthBearer and XOAuth2 exist too).
func ExampleClient_AuthenticateSASL() {
	srv := startExampleServer(imaptest.Config{
		Capabilities: "AUTH=PLAIN",
		Handlers:     map[string]imaptest.HandlerFunc{"AUTHENTICATE": imaptest.AuthPlainHandler()},
	})
	defer srv.stop()
	ctx := context.Background()
	m, err := imapengine.Dial(ctx, srv.Addr(), &imapengine.Options{AllowPlaintextAuth: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()

	res, err := m.AuthenticateSASL(ctx, imapengine.PlainAuth("", "bob", "secret"))
	fmt.Println(res, err)
	if _, err := m.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// ('OK', [b'Logged in.']) <nil>
}

// ExampleDialStartTLS connects in cleartext and upgrades with STARTTLS before
// any credential is sent. The certificate is verified: here against the fake
// server's own certificate, in production against the system roots.
func ExampleDialStartTLS() {
	serverTLS, pool := exampleTLSConfig()
	srv := startExampleServer(imaptest.Config{
		Capabilities: "STARTTLS",
		Handlers:     map[string]imaptest.HandlerFunc{"STARTTLS": imaptest.StartTLSHandler()},
		TLSConfig:    serverTLS,
	})
	defer srv.stop()
	ctx := context.Background()

	m, err := imapengine.DialStartTLS(ctx, srv.Addr(), &imapengine.Options{
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()
	fmt.Println("TLS:", m.IsTLS())
	res, err := m.Login(ctx, "bob", "secret") // no AllowPlaintextAuth needed
	fmt.Println(res, err)
	if _, err := m.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// TLS: true
	// ('OK', [b'LOGIN completed']) <nil>
}

// ExampleClient_Response reads untagged data left by a command, as imaplib's
// response(code): SELECT leaves EXISTS and the READ-WRITE response code.
// Response pops what it returns; a second call gives None.
func ExampleClient_Response() {
	srv := startExampleServer(imaptest.Config{})
	defer srv.stop()
	ctx := context.Background()
	m, err := imapengine.Dial(ctx, srv.Addr(), &imapengine.Options{AllowPlaintextAuth: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()
	if _, err := m.Login(ctx, "bob", "secret"); err != nil {
		log.Fatal(err)
	}
	res, err := m.Select(ctx, "INBOX", false)
	fmt.Println(res, err)
	fmt.Println(m.Response("EXISTS"))
	fmt.Println(m.Response("EXISTS"))
	fmt.Println(m.Response("READ-WRITE"))
	if _, err := m.Logout(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// ('OK', [b'2']) <nil>
	// ('EXISTS', [b'2'])
	// ('EXISTS', [None])
	// ('READ-WRITE', [b''])
}

// ExampleClient_Release fetches messages one by one, processes each and hands
// its memory back, so the loop reuses one body buffer instead of leaving one
// per message to the garbage collector.
func ExampleClient_Release() {
	srv := startExampleServer(imaptest.Config{Handlers: map[string]imaptest.HandlerFunc{"FETCH": fetchRFC822}})
	defer srv.stop()
	ctx := context.Background()
	m, err := imapengine.Dial(ctx, srv.Addr(), &imapengine.Options{AllowPlaintextAuth: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Shutdown()
	if _, err := m.Login(ctx, "bob", "secret"); err != nil {
		log.Fatal(err)
	}
	if _, err := m.Select(ctx, "", true); err != nil {
		log.Fatal(err)
	}
	for num := 1; num <= len(exampleMessages); num++ {
		res, err := m.Fetch(ctx, fmt.Sprint(num), "(RFC822)")
		if err != nil {
			log.Fatal(err)
		}
		body := res.Data[0].Literal()
		fmt.Printf("message %d: %d bytes, %d lines\n", num, len(body), strings.Count(string(body), "\n"))
		m.Release(res) // body must not be used after this
	}
	// Output:
	// message 1: 52 bytes, 4 lines
	// message 2: 50 bytes, 4 lines
}
