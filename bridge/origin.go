package bridge

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrOriginConfig reports an unusable origin allow-list entry.
var ErrOriginConfig = errors.New("bridge: invalid allowed origin")

// originPolicy is the WebSocket Origin allow-list. CORS does not protect
// WebSocket upgrades, so the bridge checks Origin itself before accepting:
// scheme, host (case-insensitive) and port must match an entry exactly.
type originPolicy struct {
	allowed      map[string]bool
	allowMissing bool
}

func newOriginPolicy(origins []string, allowMissing bool) (*originPolicy, error) {
	p := &originPolicy{allowed: map[string]bool{}, allowMissing: allowMissing}
	for _, o := range origins {
		if strings.Contains(o, "*") {
			return nil, fmt.Errorf("%w %q: wildcards are not allowed", ErrOriginConfig, o)
		}
		n, ok := normalizeOrigin(o)
		if !ok {
			return nil, fmt.Errorf("%w %q: want scheme://host[:port]", ErrOriginConfig, o)
		}
		p.allowed[n] = true
	}
	return p, nil
}

// allow reports whether an upgrade with this Origin header may proceed. A
// missing Origin (non-browser clients) is allowed only when configured.
func (p *originPolicy) allow(origin string) bool {
	if origin == "" {
		return p.allowMissing
	}
	n, ok := normalizeOrigin(origin)
	return ok && p.allowed[n]
}

// normalizeOrigin returns "scheme://host:port" with a lower-case host and the
// scheme's default port made explicit.
func normalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch scheme {
	case "https":
		if port == "" {
			port = "443"
		}
	case "http":
		if port == "" {
			port = "80"
		}
	default:
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", false
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host + ":" + port, true
}
