package imaptest

import (
	"errors"
	"net"
	"sync"
	"testing"
)

// ProxyBufferSize is the size of the read buffer for each relay direction,
// and so the largest chunk OnServerData sees at once.
const ProxyBufferSize = 32 << 10

// Proxy is a plaintext man-in-the-middle relay on 127.0.0.1:0 between a client
// and an upstream server, for STARTTLS-injection and fault tests. It relays
// bytes unchanged unless OnServerData rewrites them or Inject adds some. It
// does not understand TLS: after a STARTTLS upgrade it relays the encrypted
// bytes, and any rewrite then breaks the TLS session (as it should).
type Proxy struct {
	// OnServerData, if set, sees every chunk read from the upstream server
	// and returns the bytes to write to the client instead (nil or empty
	// sends nothing). It runs in a relay goroutine. It is read once, by the
	// first Addr call (which starts the relay), so set it before calling
	// Addr; later changes must go through SetOnServerData.
	OnServerData func(b []byte) []byte

	t        testing.TB
	upstream string
	ln       net.Listener

	mu      sync.Mutex // guards hook, hookSet, clients, pending, closed
	hook    func(b []byte) []byte
	hookSet bool
	clients map[net.Conn]*relay // by client side
	pending [][]byte
	closed  bool

	wg        sync.WaitGroup
	startOnce sync.Once
	closeOnce sync.Once
}

// relay is one relayed client connection.
type relay struct {
	cl, up  net.Conn
	writeMu sync.Mutex // serializes writes toward the client
}

func (r *relay) writeClient(b []byte) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	_, err := r.cl.Write(b)
	return err
}

// NewProxy starts a relay to upstreamAddr and registers Close with
// t.Cleanup. Every accepted client gets its own upstream connection.
func NewProxy(t testing.TB, upstreamAddr string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("imaptest: proxy listen: %v", err)
	}
	p := &Proxy{t: t, upstream: upstreamAddr, ln: ln, clients: map[net.Conn]*relay{}}
	t.Cleanup(p.Close)
	return p
}

// Addr returns the relay's address, "127.0.0.1:port". The first call reads
// OnServerData and starts accepting clients (connections made earlier wait
// in the listen backlog).
func (p *Proxy) Addr() string {
	p.startOnce.Do(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.closed {
			return
		}
		if !p.hookSet {
			p.hook, p.hookSet = p.OnServerData, true
		}
		p.wg.Add(1)
		go p.acceptLoop()
	})
	return p.ln.Addr().String()
}

// SetOnServerData replaces the server-data hook at any time (safe while
// clients are connected). It takes precedence over the OnServerData field.
func (p *Proxy) SetOnServerData(f func(b []byte) []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook, p.hookSet = f, true
}

// Inject writes b toward every connected client now, in one Write each. If
// no client is connected, b is queued and written to the next client right
// after it connects, before any server byte.
func (p *Proxy) Inject(b []byte) {
	b = append([]byte(nil), b...)
	p.mu.Lock()
	if len(p.clients) == 0 {
		p.pending = append(p.pending, b)
		p.mu.Unlock()
		return
	}
	relays := make([]*relay, 0, len(p.clients))
	for _, r := range p.clients {
		relays = append(relays, r)
	}
	p.mu.Unlock()
	for _, r := range relays {
		_ = r.writeClient(b)
	}
}

// Close stops the relay, closes every connection and waits for its
// goroutines. It is idempotent.
func (p *Proxy) Close() {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		for _, r := range p.clients {
			_ = r.cl.Close()
			_ = r.up.Close()
		}
		p.mu.Unlock()
		_ = p.ln.Close()
	})
	p.wg.Wait()
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		cl, err := p.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.t.Errorf("imaptest: proxy accept: %v", err)
			}
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			_ = cl.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = cl.Close()
			_ = up.Close()
			return
		}
		r := &relay{cl: cl, up: up}
		p.clients[cl] = r
		pending := p.pending
		p.pending = nil
		p.mu.Unlock()
		for _, b := range pending {
			_ = r.writeClient(b)
		}
		p.wg.Add(2)
		go p.clientToServer(r)
		go p.serverToClient(r)
	}
}

func (p *Proxy) clientToServer(r *relay) {
	defer p.wg.Done()
	buf := make([]byte, ProxyBufferSize)
	for {
		n, err := r.cl.Read(buf)
		if n > 0 {
			if _, werr := r.up.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	p.drop(r)
}

func (p *Proxy) serverToClient(r *relay) {
	defer p.wg.Done()
	buf := make([]byte, ProxyBufferSize)
	for {
		n, err := r.up.Read(buf)
		if n > 0 && !p.forward(r, buf[:n]) {
			break
		}
		if err != nil {
			break
		}
	}
	p.drop(r)
}

// forward passes one server chunk through the hook and writes the result to
// the client; it reports whether the write succeeded.
func (p *Proxy) forward(r *relay, chunk []byte) bool {
	p.mu.Lock()
	hook := p.hook
	p.mu.Unlock()
	out := append([]byte(nil), chunk...)
	if hook != nil {
		out = hook(out)
	}
	if len(out) == 0 {
		return true
	}
	return r.writeClient(out) == nil
}

// drop closes both sides of one relayed connection.
func (p *Proxy) drop(r *relay) {
	p.mu.Lock()
	delete(p.clients, r.cl)
	p.mu.Unlock()
	_ = r.cl.Close()
	_ = r.up.Close()
}
