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

// The address guard follows the IANA IPv4 and IPv6 Special-Purpose Address
// Registries (RFC 6890 and their later entries, as of 2025): every block
// whose "Globally Reachable" is False or N/A is refused, and so is anything
// IANA has not allocated for global unicast. Addresses that embed an IPv4
// address are judged by the IPv4 rules (security.md H1, H3).

// blockedV4 are the IPv4 blocks no upstream may resolve to unless it is
// configured with AllowPrivate.
var blockedV4 = prefixes(
	"0.0.0.0/8",       // "this network" (RFC 791)
	"10.0.0.0/8",      // private use (RFC 1918)
	"100.64.0.0/10",   // shared address space, CGN (RFC 6598)
	"127.0.0.0/8",     // loopback (RFC 1122)
	"169.254.0.0/16",  // link local (RFC 3927), cloud metadata
	"172.16.0.0/12",   // private use (RFC 1918)
	"192.0.0.0/24",    // IETF protocol assignments, DS-Lite, NAT64 discovery (RFC 6890, 6333, 7335, 8880)
	"192.0.2.0/24",    // documentation TEST-NET-1 (RFC 5737)
	"192.88.99.0/24",  // deprecated 6to4 relay anycast (RFC 7526)
	"192.168.0.0/16",  // private use (RFC 1918)
	"198.18.0.0/15",   // benchmarking (RFC 2544)
	"198.51.100.0/24", // documentation TEST-NET-2 (RFC 5737)
	"203.0.113.0/24",  // documentation TEST-NET-3 (RFC 5737)
	"224.0.0.0/4",     // multicast (RFC 5771)
	"240.0.0.0/4",     // reserved (RFC 1112), includes 255.255.255.255 limited broadcast
)

// globalV6 is the only IPv6 space IANA allocates for global unicast
// (IPv6 Address Space registry); everything outside it (::/8 including
// IPv4-compatible ::a.b.c.d, site-local fec0::/10, ULA fc00::/7,
// link-local fe80::/10, multicast ff00::/8, the discard and dummy prefixes
// 100::/64 and 100:0:0:1::/64, local-use NAT64 64:ff9b:1::/48) is refused
// unless it embeds an IPv4 address judged below.
var globalV6 = netip.MustParsePrefix("2000::/3")

// blockedV6 are the special-purpose blocks inside 2000::/3.
var blockedV6 = prefixes(
	"2001::/23",     // IETF protocol assignments: Teredo 2001::/32 (RFC 4380), benchmarking, ORCHID (RFC 2928)
	"2001:db8::/32", // documentation (RFC 3849)
	"3fff::/20",     // documentation (RFC 9637)
	"5f00::/16",     // SRv6 SIDs (RFC 9602)
)

// IPv6 forms that carry an IPv4 address, judged by the IPv4 rules.
var (
	mappedV6     = netip.MustParsePrefix("::ffff:0:0/96")   // IPv4-mapped (RFC 4291)
	translatedV6 = netip.MustParsePrefix("::ffff:0:0:0/96") // IPv4-translated, SIIT (RFC 2765)
	nat64V6      = netip.MustParsePrefix("64:ff9b::/96")    // well-known NAT64 prefix (RFC 6052)
	sixToFourV6  = netip.MustParsePrefix("2002::/16")       // 6to4 (RFC 3056)
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// embeddedIPv4 returns the IPv4 address an IPv6 address carries in one of
// the forms above.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case mappedV6.Contains(ip), translatedV6.Contains(ip), nat64V6.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFourV6.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// AddressAllowed reports whether ip may be dialled for an upstream that is not
// configured with AllowPrivate: IPv4 outside the special-purpose blocks, IPv6
// in global unicast space outside them, and IPv6 forms embedding an IPv4
// address (mapped, translated, NAT64, 6to4) only when that address is
// allowed. Addresses with a zone are refused.
func AddressAllowed(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	if ip.Is6() {
		if v4, ok := embeddedIPv4(ip); ok {
			ip = v4
		}
	}
	blocked := blockedV4
	if ip.Is6() {
		if !globalV6.Contains(ip) {
			return false
		}
		blocked = blockedV6
	}
	for _, p := range blocked {
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
