package imapengine

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/imapbridge/imapbridge/imapengine/internal/imapwire"
)

// redacted replaces every secret in traces.
const redacted = "[REDACTED]"

// tracer writes imaplib-style debug traces to a slog.Logger. Levels follow
// imaplib's debug: 1 NO/BAD/BYE, 3 capabilities, 4 lines, 5 untagged storage.
type tracer struct {
	log   *slog.Logger
	level int
}

func (t tracer) enabled(level int) bool { return t.log != nil && t.level >= level }

func (t tracer) log1(level int, msg string, args ...any) {
	if !t.enabled(level) {
		return
	}
	t.log.LogAttrs(context.Background(), slog.LevelDebug, "imap: "+msg, argsToAttrs(args)...)
}

func argsToAttrs(args []any) []slog.Attr {
	var out []slog.Attr
	for i := 0; i+1 < len(args); i += 2 {
		k, _ := args[i].(string)
		out = append(out, slog.Any(k, args[i+1]))
	}
	return out
}

// traceResponse logs a response's lines at level 4: lines verbatim, literals
// by size only.
func (c *Client) traceResponse(resp *imapwire.Response) {
	if !c.trace.enabled(4) {
		return
	}
	for i, l := range resp.Lines {
		c.trace.log1(4, "<", "line", string(l))
		if i < len(resp.Literals) {
			c.trace.log1(4, "< literal", "size", strconv.Itoa(len(resp.Literals[i])))
		}
	}
}

// traceSend logs one line sent at level 4; secret lines show only their tag and
// command name.
func (c *Client) traceSend(line []byte, secret bool, name string) {
	if !c.trace.enabled(4) {
		return
	}
	if secret {
		c.trace.log1(4, ">", "line", name+" "+redacted)
		return
	}
	if n := len(line); n >= 2 && line[n-2] == '\r' {
		line = line[:n-2]
	}
	c.trace.log1(4, ">", "line", string(line))
}
