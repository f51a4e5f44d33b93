package bridge

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/imapbridge/imapbridge/bridge/protocol"
)

// secDNS is a fake DNS server on loopback UDP answering A and AAAA queries
// from a fixed table (NXDOMAIN otherwise), so tests resolve names without
// the network.
type secDNS struct {
	pc      net.PacketConn
	records map[string][]netip.Addr // lower-case name without the final dot
	queries atomic.Int32
	wg      sync.WaitGroup
}

func newSecDNS(t *testing.T, records map[string][]netip.Addr) *secDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &secDNS{pc: pc, records: records}
	d.wg.Add(1)
	go d.serve()
	t.Cleanup(func() { _ = pc.Close(); d.wg.Wait() })
	return d
}

// resolver returns a pure-Go resolver that asks only this server.
func (d *secDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "udp", d.pc.LocalAddr().String())
	}}
}

func (d *secDNS) serve() {
	defer d.wg.Done()
	buf := make([]byte, 512)
	for {
		n, addr, err := d.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp := d.answer(buf[:n]); resp != nil {
			_, _ = d.pc.WriteTo(resp, addr)
		}
	}
}

// answer builds the response to one query (nil for garbage).
func (d *secDNS) answer(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	d.queries.Add(1)
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	i++ // the root label
	if i+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i:])
	question := q[12 : i+4]
	var answers []netip.Addr
	for _, a := range d.records[strings.ToLower(strings.Join(labels, "."))] {
		if (qtype == 1 && a.Is4()) || (qtype == 28 && a.Is6()) {
			answers = append(answers, a)
		}
	}
	flags := uint16(0x8180)
	if _, ok := d.records[strings.ToLower(strings.Join(labels, "."))]; !ok {
		flags |= 3 // NXDOMAIN
	}
	r := binary.BigEndian.AppendUint16(nil, binary.BigEndian.Uint16(q))
	r = binary.BigEndian.AppendUint16(r, flags)
	r = binary.BigEndian.AppendUint16(r, 1)
	r = binary.BigEndian.AppendUint16(r, uint16(len(answers)))
	r = append(r, 0, 0, 0, 0)
	r = append(r, question...)
	for _, a := range answers {
		r = append(r, 0xC0, 12) // name: pointer to the question
		r = binary.BigEndian.AppendUint16(r, qtype)
		r = append(r, 0, 1, 0, 0, 0, 60)
		b := a.AsSlice()
		r = binary.BigEndian.AppendUint16(r, uint16(len(b)))
		r = append(r, b...)
	}
	return r
}

// TestSecurityAddressAllowed covers H1's literal forms at the address check.
func TestSecurityAddressAllowed(t *testing.T) {
	for _, tc := range []struct {
		ip string
		ok bool
	}{
		{"127.0.0.1", false}, {"0.0.0.0", false}, {"::1", false}, {"::", false},
		{"::ffff:127.0.0.1", false}, {"::ffff:7f00:1", false}, {"169.254.169.254", false},
		{"fe80::1%eth0", false}, {"10.0.0.1", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"100.64.0.1", false}, {"198.18.0.1", false}, {"fc00::1", false}, {"224.0.0.1", false},
		{"255.255.255.255", false}, {"93.184.216.34", true}, {"2606:2800:220:1:248:1893:25c8:1946", true},
		// Issue 20 item 7: IPv6 forms reaching private or loopback space.
		{"::7f00:1", false}, {"::127.0.0.1", false}, {"::808:808", false}, // IPv4-compatible (deprecated)
		{"::ffff:0:7f00:1", false}, {"::ffff:0:a00:1", false}, {"::ffff:0:808:808", true}, // IPv4-translated
		{"64:ff9b::a00:1", false}, {"64:ff9b::7f00:1", false}, {"64:ff9b::808:808", true}, // NAT64 judged by IPv4
		{"64:ff9b:1::a00:1", false}, {"64:ff9b:1::808:808", false}, // local-use NAT64
		{"2002:7f00:1::1", false}, {"2002:c0a8:101::1", false}, {"2002:a9fe:a9fe::1", false}, {"2002:808:808::1", true}, // 6to4
		{"2001::1", false}, {"2001:0:4136:e378:8000:63bf:3fff:fdd2", false}, // Teredo
		{"2001:2::1", false}, {"2001:db8::1", false}, {"3fff::1", false}, {"5f00::1", false},
		{"fec0::1", false}, {"100::1", false}, {"100:0:0:1::1", false}, {"ff02::1", false}, {"4000::1", false},
		{"192.0.0.170", false}, {"192.88.99.1", false}, {"240.0.0.1", false}, {"1.1.1.1", true},
	} {
		if got := AddressAllowed(netip.MustParseAddr(tc.ip)); got != tc.ok {
			t.Errorf("AddressAllowed(%s) = %v", tc.ip, got)
		}
	}
}

// TestSecurityUpstreamPorts covers H5: without AllowPrivate only 993 (TLS)
// and 143 (STARTTLS) are accepted, and malformed ports never are.
func TestSecurityUpstreamPorts(t *testing.T) {
	for _, tc := range []struct {
		addr string
		sec  Security
		ok   bool
	}{
		{"imap.example.com:993", SecurityTLS, true},
		{"imap.example.com:143", SecuritySTARTTLS, true},
		{"imap.example.com:143", SecurityTLS, false},
		{"imap.example.com:993", SecuritySTARTTLS, false},
		{"imap.example.com:25", SecurityTLS, false},
		{"imap.example.com:22", SecurityTLS, false},
		{"imap.example.com:80", SecurityTLS, false},
		{"imap.example.com:6379", SecurityTLS, false},
		{"imap.example.com:0", SecurityTLS, false},
		{"imap.example.com:65536", SecurityTLS, false},
		{"imap.example.com:-1", SecurityTLS, false},
		{"imap.example.com:993abc", SecurityTLS, false},
		{"imap.example.com", SecurityTLS, false},
		{"127.0.0.1:143", SecurityPlain, false}, // plaintext needs AllowPlaintext and AllowPrivate
	} {
		u := Upstream{Name: "u", Addr: tc.addr, Security: tc.sec}
		err := u.validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s %s: %v", tc.addr, tc.sec, err)
		}
		if err != nil && !errors.Is(err, ErrUpstreamConfig) {
			t.Errorf("%s: error %v is not ErrUpstreamConfig", tc.addr, err)
		}
	}
}

// TestSecuritySSRF covers H1-H4 and H7 end to end: an upstream whose address
// is blocked, literally or after resolution, is refused before any dial,
// with the same error frame and close as an unreachable allowed host. H2:
// a token naming an unconfigured upstream causes no DNS lookup at all.
func TestSecuritySSRF(t *testing.T) {
	dns := newSecDNS(t, map[string][]netip.Addr{
		"imap.evil.test":     {netip.MustParseAddr("127.0.0.1")},
		"imap.private.test":  {netip.MustParseAddr("10.1.2.3")},
		"imap.metadata.test": {netip.MustParseAddr("169.254.169.254")},
		"imap.rebind.test":   {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("127.0.0.1")},
		"imap.mapped.test":   {netip.MustParseAddr("::ffff:127.0.0.1")},
		"imap.good.test":     {netip.MustParseAddr("93.184.216.34")},
		"imap.compat.test":   {netip.MustParseAddr("::7f00:1")},
		"imap.nat64.test":    {netip.MustParseAddr("64:ff9b:1::a00:1")},
	})
	hosts := []string{
		// Numeric shorthands ("127.1", "0x7f.1", "2130706433") and zones are
		// refused with the configuration (TestSecurityUpstreamHost).
		"127.0.0.1", "0.0.0.0", "[::1]", "[::]",
		"[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "169.254.169.254", "10.0.0.1",
		"172.16.0.1", "192.168.1.1", "100.64.0.1", "198.18.0.1", "[fc00::1]", "224.0.0.1",
		"255.255.255.255", "imap.evil.test", "imap.private.test", "imap.metadata.test",
		"imap.rebind.test", "imap.mapped.test",
		// Issue 20 item 7.
		"[::7f00:1]", "[::ffff:0:7f00:1]", "[64:ff9b:1::a00:1]", "[64:ff9b::a00:1]", "[2002:7f00:1::1]",
		"[2001::1]", "[fec0::1]", "imap.compat.test", "imap.nat64.test",
	}
	var ups []Upstream
	for i, h := range hosts {
		ups = append(ups, Upstream{Name: "h" + string(rune('a'+i/26)) + string(rune('a'+i%26)), Addr: h + ":993", Security: SecurityTLS})
	}
	ups = append(ups, Upstream{Name: "good", Addr: "imap.good.test:993", Security: SecurityTLS})
	var refusedDials atomic.Int32
	e := newSecEnv(t, secFake(), func(c *Config) {
		c.Upstreams = append(c.Upstreams, ups...)
		c.Resolver = dns.resolver()
		inner := c.Dial
		c.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(address)
			if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
				return inner(ctx, network, address) // the fake IMAP server
			}
			// Never a real non-loopback dial: the "good" host is unreachable.
			refusedDials.Add(1)
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
	})
	outcome := func(upstream string) (string, int) {
		c := e.mustDial(e.token(func(c *secClaimsT) { c.Upstream = upstream }))
		code := c.closed()
		if len(c.errs) != 1 {
			t.Fatalf("%s: error frames %+v", upstream, c.errs)
		}
		b, _ := protocol.Encode(c.errs[0])
		return string(b), int(code)
	}
	goodFrame, goodCode := outcome("good")
	if refusedDials.Load() != 1 {
		t.Fatalf("unreachable host: %d dials", refusedDials.Load())
	}
	for i, h := range hosts {
		t.Run(h, func(t *testing.T) {
			frame, code := outcome(ups[i].Name)
			if frame != goodFrame || code != goodCode {
				t.Errorf("blocked %s: %s / %d; unreachable: %s / %d", h, frame, code, goodFrame, goodCode)
			}
		})
	}
	if n := refusedDials.Load(); n != 1 {
		t.Errorf("%d dials to blocked hosts", n-1)
	}
	if n := e.dials.Load(); n != 0 {
		t.Errorf("%d dials reached the network", n)
	}
	if n := e.imap.ConnCount(); n != 0 {
		t.Errorf("IMAP server saw %d connections", n)
	}

	t.Run("unconfigured upstream: no DNS", func(t *testing.T) {
		before := dns.queries.Load()
		c := e.mustDial(e.token(func(c *secClaimsT) { c.Upstream = "imap-attacker-test" }))
		if got := c.closed(); got != protocol.ClosePolicy {
			t.Errorf("close %d", got)
		}
		if len(c.errs) != 1 || c.errs[0].Error.Code != protocol.CodeForbidden {
			t.Errorf("errors %+v", c.errs)
		}
		if dns.queries.Load() != before {
			t.Error("DNS lookup for an unconfigured upstream")
		}
	})
}

// TestSecurityDialerControl checks the real dial path (no injected Dial):
// the Control hook refuses a name resolving to loopback.
func TestSecurityDialerControl(t *testing.T) {
	dns := newSecDNS(t, map[string][]netip.Addr{"imap.evil.test": {netip.MustParseAddr("127.0.0.1")}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	d := &Dialer{Resolver: dns.resolver()}
	for _, addr := range []string{"imap.evil.test:" + port, ln.Addr().String()} {
		c, err := d.DialContext(context.Background(), "tcp", addr)
		if err == nil {
			c.Close()
			t.Fatalf("%s: dialled", addr)
		}
		if !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("%s: %v", addr, err)
		}
		if strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("%s: the error names the address: %v", addr, err)
		}
	}
}

// TestSecurityUpstreamHost is issue 20 item 7's configuration half: upstream
// hosts are validated when the configuration is loaded, so user info, NUL,
// spaces and the numeric shorthands resolvers accept never reach a resolver.
func TestSecurityUpstreamHost(t *testing.T) {
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"imap.example.com", true}, {"imap.example.com.", true}, {"mail-1.example.co.uk", true},
		{"93.184.216.34", true}, {"2606:2800:220:1:248:1893:25c8:1946", true}, {"localhost", true},
		{"xn--bcher-kva.example", true}, {"1password.example", true},
		{"host@127.0.0.1", false}, {"imap.example.com\x00.evil", false}, {"imap example.com", false},
		{" imap.example.com", false}, {"0x7f.1", false}, {"127.1", false}, {"0x7f000001", false},
		{"2130706433", false}, {"017700000001", false}, {"127.0.0.01", false}, {"0177.0.0.1", false},
		{"1.2.3", false}, {"example.123", false}, {"fe80::1%eth0", false}, {"", false}, {".", false},
		{"a..b", false}, {"-a.example", false}, {"a-.example", false}, {"a_b.example", false},
		{"imap.example.com%2f", false}, {"user:pw@imap.example.com", false}, {strings.Repeat("a", 64) + ".example", false},
		{strings.Repeat("a.", 127) + "com", false},
	} {
		host := strings.ReplaceAll(tc.host, "\\x00", "\x00")
		err := ValidateHost(host)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateHost(%q) = %v", host, err)
		}
		if err != nil && !errors.Is(err, ErrBadHost) {
			t.Errorf("ValidateHost(%q): %v is not ErrBadHost", host, err)
		}
		if tc.ok || host == "" || strings.Contains(host, ":") {
			continue
		}
		u := Upstream{Name: "u", Addr: net.JoinHostPort(host, "993"), Security: SecurityTLS}
		if err := u.Validate(); !errors.Is(err, ErrUpstreamConfig) || !errors.Is(err, ErrBadHost) {
			t.Errorf("Validate(%q) = %v, want ErrUpstreamConfig and ErrBadHost", u.Addr, err)
		}
	}
}
