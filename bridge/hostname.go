package bridge

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrBadHost reports an upstream host that is neither a canonical IP address
// nor a DNS host name. It is found when the configuration is loaded, not
// left to the resolver: resolvers accept forms (inet_aton's "127.1",
// "0x7f.1", "017700000001") that name addresses the guard would otherwise
// have to see through.
var ErrBadHost = errors.New("bridge: upstream host must be an IP address or a DNS host name")

// MaxHostLength is the longest DNS host name accepted (RFC 1035), without a
// trailing dot.
const MaxHostLength = 253

// ValidateHost checks an upstream host (the host of host:port, IPv6 without
// brackets): a canonical IPv4 dotted quad, an IPv6 address without zone, or
// a host name of letter-digit-hyphen labels of at most 63 bytes whose last
// label is not numeric. Anything else — user info ("host@127.0.0.1"), NUL,
// spaces, percent or other bytes, numeric shorthands ("127.1", "0x7f.1",
// "2130706433") — fails with ErrBadHost.
func ValidateHost(host string) error {
	bad := func(why string) error { return fmt.Errorf("%w: %q: %s", ErrBadHost, host, why) }
	if host == "" {
		return bad("empty")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return bad("an IPv6 zone is not allowed")
		}
		return nil
	}
	if strings.Contains(host, ":") {
		return bad("not an IPv6 address")
	}
	name := strings.TrimSuffix(host, ".")
	if len(name) == 0 || len(name) > MaxHostLength {
		return bad("empty or longer than 253 bytes")
	}
	labels := strings.Split(name, ".")
	numeric := 0
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 {
			return bad("empty label or label longer than 63 bytes")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return bad(fmt.Sprintf("byte %q not allowed in a host name", c))
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return bad("label starts or ends with '-'")
		}
		if numericLabel(l) {
			numeric++
		}
	}
	if numericLabel(labels[len(labels)-1]) || numeric == len(labels) {
		return bad("numeric form of an address that is not a dotted quad")
	}
	return nil
}

// numericLabel reports whether l is a number as inet_aton reads one:
// decimal, octal (leading 0) or hexadecimal (0x).
func numericLabel(l string) bool {
	digits := l
	hex := false
	if len(l) > 1 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X') {
		digits, hex = l[2:], true
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if !(c >= '0' && c <= '9' || hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}
