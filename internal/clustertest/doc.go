// Package clustertest holds the scale-out test of issue 18: real bridge
// processes (cmd/bridge, built once) coordinated through a private Redis
// (e2e/servers/redis.sh) behind a private nginx load balancer
// (e2e/servers/nginx.sh), in front of the private Dovecot of the live suite
// (e2e/servers/dovecot.sh). Its test clients speak the WebSocket protocol and
// resync the way the SDK does (docs/protocol.md §6).
//
// The package has no API; everything is in its tests.
package clustertest
