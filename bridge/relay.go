package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
)

// relay runs one imaplib-style command: an allow-listed method name and its
// positional arguments, each validated and quoted by the engine's encoder. No
// frame can put a raw line on the wire (security.md C4).
func (s *session) relay(ctx context.Context, r *protocol.ImaplibRequest) (protocol.Frame, error) {
	name := strings.ToLower(r.Cmd)
	if !slices.Contains(protocol.ImaplibCommands, name) {
		return nil, fail(protocol.CodeForbidden, "command not allowed")
	}
	a := relayArgs(r.Args)
	if err := s.relayAllowed(name, a); err != nil {
		return nil, err
	}
	c := s.client
	var res imapengine.Result
	var err error
	str := a.str
	switch name {
	case "select", "examine":
		// readonly has Python's truth value: true, 1 and "yes" (and
		// any non-empty string) are true; false, 0, "", null are not.
		ro := name == "examine" || s.claims.Scopes.ReadOnly || (len(a) > 1 && a[1].Truth())
		s.leaveMailbox(ctx)
		res, err = c.Select(ctx, str(0), ro)
		if err == nil && res.Typ == "OK" {
			// Events name the mailbox as LIST does, however the argument
			// was quoted or encoded.
			mb := c.MailboxName(str(0))
			if mb == "" {
				mb = "INBOX"
			}
			if err = c.SyncUIDs(ctx); err == nil {
				s.setMailbox(mb)
			}
		}
	case "fetch":
		res, err = c.Fetch(ctx, str(0), str(1))
	case "search":
		res, err = c.Search(ctx, str(0), a.rest(1)...)
	case "store":
		res, err = c.Store(ctx, str(0), str(1), str(2))
	case "copy":
		res, err = c.Copy(ctx, str(0), str(1))
	case "move":
		res, err = c.Move(ctx, str(0), str(1))
	case "expunge":
		res, err = c.Expunge(ctx)
	case "list", "lsub":
		dir, pat := str(0), str(1)
		if a.null(1) || len(a) < 2 {
			pat = "*"
		}
		if name == "list" {
			res, err = c.List(ctx, dir, pat)
		} else {
			res, err = c.Lsub(ctx, dir, pat)
		}
	case "status":
		res, err = c.Status(ctx, str(0), str(1))
	case "create":
		res, err = c.Create(ctx, str(0))
	case "delete":
		res, err = c.Delete(ctx, str(0))
	case "rename":
		res, err = c.Rename(ctx, str(0), str(1))
	case "subscribe":
		res, err = c.Subscribe(ctx, str(0))
	case "unsubscribe":
		res, err = c.Unsubscribe(ctx, str(0))
	case "append":
		var msg []byte
		if len(a) > 3 {
			if a[3].Bytes != nil {
				msg = a[3].Bytes
			} else if a[3].Str != nil {
				msg = []byte(*a[3].Str)
			}
		}
		if len(msg) > s.srv.lim.MaxAppendBytes {
			return nil, fail(protocol.CodeLimit, "message too large")
		}
		var date time.Time
		if len(a) > 2 && a[2].Int != nil {
			// Time2Internaldate of seconds since the epoch (sent in UTC).
			date = time.Unix(*a[2].Int, 0).UTC()
		} else if d := str(2); d != "" {
			t, perr := parseRelayDate(d)
			if perr != nil {
				return nil, fail(protocol.CodeBadRequest, "date must be RFC 3339 or an IMAP date-time")
			}
			date = t
		}
		res, err = c.Append(ctx, str(0), str(1), date, msg)
	case "uid":
		res, err = c.UID(ctx, str(0), a.rest(1)...)
	case "noop":
		res, err = c.Noop(ctx)
	case "check":
		res, err = c.Check(ctx)
	case "close", "unselect":
		s.leaveMailbox(ctx)
		if name == "close" {
			res, err = c.CloseMailbox(ctx)
		} else {
			res, err = c.Unselect(ctx)
		}
	case "namespace":
		res, err = c.Namespace(ctx)
	case "capability":
		res, err = c.Capability(ctx)
	case "getquota":
		res, err = c.GetQuota(ctx, str(0))
	case "getquotaroot":
		var q imapengine.QuotaRootResult
		q, err = c.GetQuotaRoot(ctx, str(0))
		res = imapengine.Result{Typ: q.Typ}
		if err == nil {
			return protocol.ImaplibResponse{ID: r.ID, Typ: q.Typ, Data: []protocol.Datum{
				protocol.ListDatum(toData(q.QuotaRoot)), protocol.ListDatum(toData(q.Quota))}}, nil
		}
	case "getacl":
		res, err = c.GetACL(ctx, str(0))
	case "myrights":
		res, err = c.MyRights(ctx, str(0))
	case "sort":
		res, err = c.Sort(ctx, str(0), str(1), a.rest(2)...)
	case "thread":
		res, err = c.Thread(ctx, str(0), str(1), a.rest(2)...)
	case "id":
		var fields []imapengine.IDField
		for i := 0; i+1 < len(a); i += 2 {
			fields = append(fields, imapengine.IDField{Name: str(i), Value: str(i + 1), Nil: a.null(i + 1)})
		}
		res, err = c.ID(ctx, fields...)
	case "enable":
		res, err = c.Enable(ctx, str(0))
	case "recent":
		res, err = c.Recent(ctx)
	case "response":
		res = c.Response(str(0))
	case "partial":
		res, err = c.Partial(ctx, a.text(0), str(1), a.text(2), a.text(3))
	default:
		return nil, fail(protocol.CodeForbidden, "command not allowed")
	}
	if err != nil {
		if name == "select" || name == "examine" {
			if errors.Is(err, imapengine.ErrReadOnly) {
				// SELECTED, but not writable: events flow as after an OK.
				if serr := c.SyncUIDs(ctx); serr == nil {
					mb := c.MailboxName(str(0))
					if mb == "" {
						mb = "INBOX"
					}
					s.setMailbox(mb)
				}
			}
		}
		return nil, imaplibError(name, a, err)
	}
	return protocol.ImaplibResponse{ID: r.ID, Typ: res.Typ, Data: toData(res.Data)}, nil
}

func toData(in []imapengine.Datum) []protocol.Datum {
	out := make([]protocol.Datum, len(in))
	for i, d := range in {
		switch {
		case d.IsNone():
			out[i] = protocol.NullDatum()
		case d.IsPair():
			out[i] = protocol.PairDatum(d.Bytes(), d.Literal())
		default:
			out[i] = protocol.BytesDatum(d.Bytes())
		}
	}
	return out
}

func parseRelayDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(`"02-Jan-2006 15:04:05 -0700"`, s)
}

// relayArgs gives positional access to relay arguments.
type relayArgs []protocol.Arg

func (a relayArgs) str(i int) string {
	if i < len(a) && a[i].Str != nil {
		return *a[i].Str
	}
	return ""
}

// text is str, with an integer argument in decimal.
func (a relayArgs) text(i int) string {
	if i < len(a) && a[i].Int != nil {
		return strconv.FormatInt(*a[i].Int, 10)
	}
	return a.str(i)
}

func (a relayArgs) null(i int) bool { return i < len(a) && a[i].IsNull() }

// rest returns the arguments from i on, skipping nulls as imaplib skips None.
func (a relayArgs) rest(i int) []string {
	var out []string
	for ; i < len(a); i++ {
		if !a[i].IsNull() {
			out = append(out, a.str(i))
		}
	}
	return out
}

// relayWrites are the relay commands that change mail, and relayDeletes the
// ones that remove it.
var (
	relayWrites  = []string{"store", "copy", "move", "expunge", "create", "delete", "rename", "subscribe", "unsubscribe", "append", "close"}
	relayDeletes = []string{"expunge", "delete", "rename", "move", "close"}
	// relayMailboxArg is the index of the mailbox argument(s) of a command.
	relayMailboxArg = map[string][]int{
		"select": {0}, "examine": {0}, "status": {0}, "create": {0}, "delete": {0}, "rename": {0, 1},
		"subscribe": {0}, "unsubscribe": {0}, "append": {0}, "copy": {1}, "move": {1},
		"getquotaroot": {0}, "getacl": {0}, "myrights": {0},
	}
)

// relayMailboxChars refuses a mailbox name (or LIST reference and pattern)
// holding a control character before anything is sent (see
// protocol.ControlChar).
func relayMailboxChars(name string, a relayArgs) error {
	idx := relayMailboxArg[name]
	switch name {
	case "list", "lsub":
		idx = []int{0, 1}
	case "uid":
		if i, ok := map[string]int{"copy": 2, "move": 2}[strings.ToLower(a.str(0))]; ok {
			idx = []int{i}
		}
	}
	for _, i := range idx {
		if c := protocol.ControlChar(a.str(i)); c >= 0 {
			return fail(protocol.CodeBadRequest, fmt.Sprintf("args[%d]: mailbox names may not hold control characters (U+%04X at byte %d)", i, a.str(i)[c], c))
		}
	}
	return nil
}

// relayArgsSafe refuses, before imaplib's own checks (state, UID command),
// an argument the engine's encoder would refuse: NUL, CR or LF anywhere but
// in append's message, and a trailing literal marker ("{5}", "{5+}") in an
// argument that is not a mailbox name (names are quoted).
func relayArgsSafe(name string, a relayArgs) error {
	for i := range a {
		if a[i].Str == nil || (name == "append" && i == 3) {
			continue
		}
		v := *a[i].Str
		if strings.ContainsAny(v, "\x00\r\n") {
			return fail(protocol.CodeBadRequest, fmt.Sprintf("args[%d]: NUL, CR and LF are not allowed in commands", i))
		}
		if endsInLiteral(v) && !slices.Contains(relayMailboxArg[name], i) {
			return fail(protocol.CodeBadRequest, fmt.Sprintf("args[%d]: may not end in a literal marker {n}", i))
		}
	}
	return nil
}

// endsInLiteral reports whether s ends in "{digits}" or "{digits+}".
func endsInLiteral(s string) bool {
	s, ok := strings.CutSuffix(s, "}")
	if !ok {
		return false
	}
	s = strings.TrimSuffix(s, "+")
	d := strings.TrimRight(s, "0123456789")
	return len(d) < len(s) && strings.HasSuffix(d, "{")
}

// relayAllowed applies the token's scopes to a relayed command.
func (s *session) relayAllowed(name string, a relayArgs) error {
	sc := s.claims.Scopes
	if err := relayMailboxChars(name, a); err != nil {
		return err
	}
	if err := relayArgsSafe(name, a); err != nil {
		return err
	}
	inner := name
	if name == "uid" {
		inner = strings.ToLower(a.str(0))
		switch {
		case slices.Contains(protocol.UIDCommands, inner):
		case !slices.Contains(protocol.ImaplibKnownCommands, strings.ToUpper(inner)):
			return &imaplibErr{protocol.ImaplibException{Exception: protocol.ExceptionError,
				Message: "Unknown IMAP4 UID command: " + strings.ToUpper(a.str(0))}, nil}
		default:
			return fail(protocol.CodeForbidden, "UID command not allowed")
		}
		a = a[min(1, len(a)):]
	}
	if sc.ReadOnly && slices.Contains(relayWrites, inner) {
		return fail(protocol.CodeForbidden, "this session is read-only")
	}
	if !sc.MayDelete && slices.Contains(relayDeletes, inner) {
		return fail(protocol.CodeForbidden, "this session may not delete")
	}
	if inner == "store" && !sc.MayDelete && strings.Contains(strings.ToLower(a.str(2)), `\deleted`) {
		return fail(protocol.CodeForbidden, "this session may not delete")
	}
	if len(sc.Mailboxes) > 0 {
		if name == "list" || name == "lsub" {
			return fail(protocol.CodeForbidden, "use the typed list op with mailbox-restricted tokens")
		}
		for _, i := range relayMailboxArg[inner] {
			mb := s.client.MailboxName(a.str(i))
			if mb == "" && (inner == "select" || inner == "examine" || inner == "append") {
				mb = "INBOX"
			}
			if !sc.AllowsMailbox(mb) {
				return fail(protocol.CodeForbidden, "mailbox not allowed for this session")
			}
		}
	}
	for i := range a {
		if a[i].Bytes != nil && !(inner == "append" && i == 3) {
			return fail(protocol.CodeBadRequest, "binary arguments are only allowed for append's message")
		}
	}
	return nil
}

// imaplibErr is an imaplib relay call that raised one of imaplib's
// exceptions: an error frame with code imaplib.
type imaplibErr struct {
	exc  protocol.ImaplibException
	imap *protocol.IMAPError // the server's BAD behind it, if any
}

func (e *imaplibErr) Error() string {
	return "bridge: imaplib." + e.exc.Exception + ": " + e.exc.Message
}

// imaplibError returns what imaplib would have raised for the engine error
// err of relayed command name: an *imaplibErr with imaplib's class and
// text, or err itself when imaplib would have raised something else
// (ValueError for a bad argument, OSError for a timeout) or the bridge
// refused the call.
func imaplibError(name string, a relayArgs, err error) error {
	var e *imapengine.Error
	if !errors.As(err, &e) || errors.Is(err, imapengine.ErrBadArgument) ||
		errors.Is(err, imapengine.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	exc := protocol.ImaplibException{Exception: protocol.ExceptionError, Message: e.Msg}
	switch e.Kind {
	case imapengine.KindAbort:
		exc.Exception = protocol.ExceptionAbort
	case imapengine.KindReadOnly:
		exc.Exception = protocol.ExceptionReadOnly
		if (name == "select" || name == "examine") && !strings.Contains(e.Msg, "status changed") {
			// CPython 3.11: readonly('%s is not writable' % mailbox), the
			// argument as given (3.14.7 and the engine use %r).
			mb := a.str(0)
			if mb == "" {
				mb = "INBOX"
			}
			exc.Message = mb + " is not writable"
		}
	}
	if e.Command != "" {
		exc.Message = "command: " + e.Command + " => " + exc.Message
	}
	return &imaplibErr{exc: exc, imap: imapErr(err)}
}
