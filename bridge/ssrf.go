package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// ErrBlockedAddress is returned when an upstream resolves to an address the
// bridge refuses to connect to (loopback, private, link-local, ...). The
// message never says which, so the bridge is no scanning oracle.
var ErrBlockedAddress = errors.New("bridge: upstream address not allowed")

// blockedPrefixes are the ranges no upstream may resolve to unless it is
// configured with AllowPrivate (security.md H1, H3).
var blockedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
		"224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
		"::/128", "::1/128", "64:ff9b::/96", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// AddressAllowed reports whether ip may be dialled for an upstream that is not
// configured with AllowPrivate. IPv4-mapped IPv6 addresses are judged as IPv4.
func AddressAllowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Dialer dials upstreams. Its Control hook checks the address actually being
// connected, after resolution, so a name that resolves (or rebinds) to a
// blocked address is refused with no time-of-check gap (security.md H3, H4).
type Dialer struct {
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// AllowPrivate permits blocked ranges (local development, tests).
	AllowPrivate bool
	// Dial, if set, replaces the network dial (tests count dials with it).
	// It receives only IP addresses, resolved once by Resolver and checked.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// DialContext implements the dialer interface imapengine.Options.Dialer needs.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if d.Dial != nil {
		return d.dialChecked(ctx, network, address)
	}
	nd := &net.Dialer{Resolver: d.Resolver}
	if !d.AllowPrivate {
		nd.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !AddressAllowed(ap.Addr()) {
				return ErrBlockedAddress
			}
			return nil
		}
	}
	conn, err := nd.DialContext(ctx, network, address)
	if err != nil && errors.Is(err, ErrBlockedAddress) {
		return nil, fmt.Errorf("%w", ErrBlockedAddress)
	}
	return conn, err
}

// dialChecked resolves address once, refuses it if any of its addresses is
// blocked, and hands the injected Dial only checked IP addresses, so an
// injected Dial gets the same guarantee as the Control hook: the address
// dialled is the address checked (security.md H3, H4).
func (d *Dialer) dialChecked(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, perr := netip.ParseAddr(host); perr == nil {
		ips = []netip.Addr{ip}
	} else {
		r := d.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		ips, err = r.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err
		}
	}
	if !d.AllowPrivate {
		for _, ip := range ips {
			if !AddressAllowed(ip) {
				return nil, ErrBlockedAddress
			}
		}
	}
	err = ErrBlockedAddress // no address at all
	for _, ip := range ips {
		var c net.Conn
		c, err = d.Dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
	}
	return nil, err
}
