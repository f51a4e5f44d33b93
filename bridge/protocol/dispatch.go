package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"

	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// checker is implemented by every request type: it checks the decoded
// members against the contract.
type checker interface {
	Request
	check() *ProtocolError
}

// requestTypes returns one zero value of each request type.
func requestTypes() []checker {
	return []checker{
		&AuthRequest{}, &LoginRequest{}, &ImaplibRequest{}, &SelectRequest{},
		&ListRequest{}, &StatusRequest{}, &FetchRequest{}, &SearchRequest{},
		&StoreRequest{}, &CopyRequest{}, &ExpungeRequest{}, &AppendRequest{},
		&DownloadRequest{}, &UploadRequest{},
		&MailboxRequest{}, &RenameRequest{}, &NoopRequest{}, &LogoutRequest{},
		&FindRequest{}, &SortRequest{}, &ThreadRequest{}, &WatchRequest{}, &UnwatchRequest{},
		&ComposeRequest{},
	}
}

// newRequest returns a new value of the type of op, or nil.
func newRequest(op string) checker {
	switch op {
	case OpAuth:
		return &AuthRequest{}
	case OpLogin:
		return &LoginRequest{}
	case OpImaplib:
		return &ImaplibRequest{}
	case OpSelect:
		return &SelectRequest{}
	case OpList:
		return &ListRequest{}
	case OpStatus:
		return &StatusRequest{}
	case OpFetch:
		return &FetchRequest{}
	case OpSearch:
		return &SearchRequest{}
	case OpStore:
		return &StoreRequest{}
	case OpCopy, OpMove:
		return &CopyRequest{}
	case OpExpunge:
		return &ExpungeRequest{}
	case OpAppend:
		return &AppendRequest{}
	case OpDownload:
		return &DownloadRequest{}
	case OpUpload:
		return &UploadRequest{}
	case OpCreate, OpDelete, OpSubscribe, OpUnsubscribe:
		return &MailboxRequest{}
	case OpRename:
		return &RenameRequest{}
	case OpNoop:
		return &NoopRequest{}
	case OpLogout:
		return &LogoutRequest{}
	case OpFind:
		return &FindRequest{}
	case OpSort:
		return &SortRequest{}
	case OpThread:
		return &ThreadRequest{}
	case OpWatch:
		return &WatchRequest{}
	case OpUnwatch:
		return &UnwatchRequest{}
	case OpSubmit, OpSaveDraft:
		return &ComposeRequest{}
	}
	return nil
}

// decodeOp is the second pass: it decodes the validated frame into the
// type of its op and checks the members.
func decodeOp(data []byte, top topLevel) (Request, *ProtocolError) {
	if !top.hasOp {
		return nil, badRequest(ErrUnknownOp, "missing \"op\"")
	}
	req := newRequest(top.op)
	if req == nil {
		return nil, badRequest(ErrUnknownOp, "unknown op %.64q", top.op)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(req); err != nil {
		return nil, decodeError(err)
	}
	if !validID(req.RequestID()) {
		return nil, badRequest(ErrInvalidField, "\"id\" must be a string of %d to %d characters", MinIDLength, MaxIDLength)
	}
	if perr := req.check(); perr != nil {
		return nil, perr
	}
	return req, nil
}

// decodeError turns an encoding/json error into a *ProtocolError.
func decodeError(err error) *ProtocolError {
	if pe, ok := asProtocolError(err); ok {
		return pe
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := strings.TrimPrefix(te.Field, "Header.")
		if strings.HasPrefix(te.Value, "number") && te.Type != nil {
			switch te.Type.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				return badRequest(ErrNumber, "member %q: number out of range", field)
			}
		}
		return badRequest(ErrFieldType, "member %q: wrong type %s", field, te.Value)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return badRequest(ErrUnknownField, "unknown member %s", strings.TrimPrefix(msg, "json: unknown field "))
	}
	return badRequest(ErrFieldType, "invalid member value")
}

func invalid(format string, args ...any) *ProtocolError {
	return badRequest(ErrInvalidField, format, args...)
}

// checkMailbox refuses an empty mailbox name and one holding a control
// character (see ControlChar).
func checkMailbox(member, name string) *ProtocolError {
	if name == "" {
		return invalid("%q is required", member)
	}
	return checkMailboxChars(member, name)
}

// checkMailboxChars refuses a mailbox name or pattern holding a C0 control
// character or DEL.
func checkMailboxChars(member, name string) *ProtocolError {
	if i := ControlChar(name); i >= 0 {
		return invalid("%q: mailbox names may not hold control characters (U+%04X at byte %d)", member, name[i], i)
	}
	return nil
}

// ControlChar returns the byte offset of the first C0 control character
// (U+0000 to U+001F) or DEL (U+007F) in s, or -1. Such a mailbox name is
// refused before any IMAP traffic: it names no real mailbox, and a server
// that echoes the name in its answer (Dovecot does, in a NO's text) would
// write the raw bytes, a CR LF among them ending the response line.
func ControlChar(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return i
		}
	}
	return -1
}

// checkUIDSet refuses a missing or malformed UID set.
func checkUIDSet(member, s string) *ProtocolError {
	if s == "" {
		return invalid("%q is required", member)
	}
	if _, err := imap.ParseUIDSet(s); err != nil {
		return invalid("%q is not a UID set", member)
	}
	return nil
}

// checkStrings bounds a list member and refuses empty entries.
func checkStrings(member string, list []string) *ProtocolError {
	if len(list) > MaxItems {
		return badRequest(ErrInvalidField, "%q has more than %d entries", member, MaxItems)
	}
	for _, s := range list {
		if s == "" {
			return invalid("%q has an empty entry", member)
		}
	}
	return nil
}

// checkStatusItems checks a list of STATUS item names.
func checkStatusItems(member string, items []string) *ProtocolError {
	if perr := checkStrings(member, items); perr != nil {
		return perr
	}
	for _, it := range items {
		if !slices.Contains(statusItems, it) {
			return invalid("%q: unknown status item %.32q", member, it)
		}
	}
	return nil
}

var statusItems = []string{StatusMessages, StatusRecent, StatusUIDNext, StatusUIDValidity, StatusUnseen, StatusHighestModSeq}

var fetchItems = []string{ItemUID, ItemFlags, ItemEnvelope, ItemBodyStructure, ItemSize, ItemInternalDate, ItemModSeq,
	ItemGmailMsgID, ItemGmailThreadID, ItemGmailLabels}

func (r *AuthRequest) check() *ProtocolError {
	if r.Token == "" {
		return invalid("\"token\" is required")
	}
	if len(r.Token) > MaxTokenBytes {
		return badRequest(ErrInvalidField, "\"token\" longer than %d bytes", MaxTokenBytes)
	}
	return nil
}

func (r *LoginRequest) check() *ProtocolError {
	if r.Password == "" {
		return invalid("\"password\" is required")
	}
	return nil
}

func (r *ImaplibRequest) check() *ProtocolError {
	if slices.Contains(ForbiddenImaplibCommands, r.Cmd) {
		return &ProtocolError{Code: CodeForbidden, Msg: "imaplib command " + r.Cmd + " is not relayed", Err: ErrForbiddenCommand}
	}
	if !slices.Contains(ImaplibCommands, r.Cmd) {
		return invalid("unknown imaplib command %.32q", r.Cmd)
	}
	if len(r.Args) > MaxArgs {
		return invalid("more than %d args", MaxArgs)
	}
	for i, a := range r.Args {
		if a.Bytes != nil && !(r.Cmd == "append" && i == 3) {
			return invalid("args[%d]: bytes are allowed only as append's message (args[3])", i)
		}
		if perr := checkScalarArg(r.Cmd, i, a); perr != nil {
			return perr
		}
	}
	if r.Cmd == "uid" {
		if len(r.Args) == 0 || r.Args[0].Str == nil {
			return invalid("uid needs a command name as args[0]")
		}
		sub := strings.ToLower(*r.Args[0].Str)
		// An unknown name is imaplib's own error, raised by the relay.
		if !slices.Contains(UIDCommands, sub) && slices.Contains(ImaplibKnownCommands, strings.ToUpper(sub)) {
			return &ProtocolError{Code: CodeForbidden, Msg: "uid command " + *r.Args[0].Str + " is not relayed", Err: ErrForbiddenCommand}
		}
	}
	return nil
}

// checkScalarArg refuses a boolean or integer argument where the imaplib
// method takes none (ImaplibScalarArgs), and an integer out of its range.
func checkScalarArg(cmd string, i int, a Arg) *ProtocolError {
	if a.Bool == nil && a.Int == nil {
		return nil
	}
	what := "a boolean"
	if a.Int != nil {
		what = "an integer"
	}
	switch ImaplibScalarArgs[cmd][i] {
	case ArgBool:
		return nil
	case ArgInt:
		if a.Bool != nil {
			break
		}
		switch {
		case cmd == "partial" && (*a.Int < 0 || *a.Int > 1<<32-1):
			return badRequest(ErrNumber, "args[%d]: partial takes an integer from 0 to %d", i, uint32(1<<32-1))
		case cmd == "append" && (*a.Int < 0 || *a.Int > MaxEpochSeconds):
			return badRequest(ErrNumber, "args[%d]: append's date_time takes seconds from 0 to %d", i, MaxEpochSeconds)
		}
		return nil
	}
	return badRequest(ErrFieldType, "args[%d]: imaplib's %s takes a string or null there, not %s", i, cmd, what)
}

func (r *SelectRequest) check() *ProtocolError {
	if perr := checkMailbox("mailbox", r.Mailbox); perr != nil {
		return perr
	}
	if q := r.QResync; q != nil {
		if q.UIDValidity == 0 || q.ModSeq == 0 {
			return invalid("\"qresync\" needs non-zero \"uidValidity\" and \"modSeq\"")
		}
		if q.KnownUIDs != "" {
			if perr := checkUIDSet("knownUids", q.KnownUIDs); perr != nil {
				return perr
			}
		}
	}
	return nil
}

func (r *ListRequest) check() *ProtocolError {
	if perr := checkMailboxChars("ref", r.Ref); perr != nil {
		return perr
	}
	if perr := checkMailboxChars("pattern", r.Pattern); perr != nil {
		return perr
	}
	return checkStatusItems("status", r.Status)
}

func (r *StatusRequest) check() *ProtocolError {
	if perr := checkMailbox("mailbox", r.Mailbox); perr != nil {
		return perr
	}
	return checkStatusItems("items", r.Items)
}

func (r *FetchRequest) check() *ProtocolError {
	switch {
	case r.UIDs != "" && r.Seqs != "":
		return invalid("give one of \"uids\" and \"seqs\"")
	case r.UIDs != "":
		if perr := checkUIDSet("uids", r.UIDs); perr != nil {
			return perr
		}
	case r.Seqs != "":
		if _, err := imap.ParseSeqSet(r.Seqs); err != nil {
			return invalid("\"seqs\" is not a sequence set")
		}
	default:
		return invalid("one of \"uids\" and \"seqs\" is required")
	}
	if perr := checkStrings("items", r.Items); perr != nil {
		return perr
	}
	for _, it := range r.Items {
		if !slices.Contains(fetchItems, it) {
			return invalid("unknown fetch item %.32q", it)
		}
	}
	if len(r.Body) > MaxItems {
		return invalid("\"body\" has more than %d entries", MaxItems)
	}
	for _, b := range r.Body {
		if perr := checkSection(b.Section); perr != nil {
			return perr
		}
		if b.Partial != nil && b.Partial.Length == 0 {
			return invalid("\"partial\" needs a non-zero \"length\"")
		}
	}
	if len(r.Items) == 0 && len(r.Body) == 0 {
		return invalid("nothing to fetch: give \"items\" or \"body\"")
	}
	if r.Vanished && (r.UIDs == "" || r.ChangedSince == 0) {
		return invalid("\"vanished\" needs \"uids\" and \"changedSince\"")
	}
	return nil
}

// checkSection allows printable ASCII section specs of bounded length;
// the engine checks the grammar.
func checkSection(s string) *ProtocolError {
	if len(s) > MaxSectionLength {
		return invalid("\"section\" longer than %d bytes", MaxSectionLength)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e || s[i] == '[' || s[i] == ']' {
			return invalid("\"section\" holds a character outside printable ASCII or a bracket")
		}
	}
	return nil
}

func (r *SearchRequest) check() *ProtocolError {
	if r.GmailRaw != "" && len(r.Criteria) > 0 {
		return invalid("\"gmailRaw\" and \"criteria\" are exclusive")
	}
	return checkStrings("criteria", r.Criteria)
}

func (r *StoreRequest) check() *ProtocolError {
	if perr := checkUIDSet("uids", r.UIDs); perr != nil {
		return perr
	}
	switch r.Mode {
	case StoreAdd, StoreRemove, StoreSet:
	default:
		return invalid("\"mode\" must be add, remove or set")
	}
	if r.Flags == nil {
		return invalid("\"flags\" is required")
	}
	if len(r.Labels) > 0 && len(r.Flags) > 0 {
		return invalid("\"labels\" needs empty \"flags\"")
	}
	if perr := checkStrings("labels", r.Labels); perr != nil {
		return perr
	}
	return checkStrings("flags", r.Flags)
}

func (r *CopyRequest) check() *ProtocolError {
	if perr := checkUIDSet("uids", r.UIDs); perr != nil {
		return perr
	}
	return checkMailbox("to", r.To)
}

func (r *ExpungeRequest) check() *ProtocolError {
	return checkUIDSet("uids", r.UIDs)
}

func (r *AppendRequest) check() *ProtocolError {
	if perr := checkMailbox("mailbox", r.Mailbox); perr != nil {
		return perr
	}
	if r.Message == nil {
		return invalid("\"message\" is required")
	}
	return checkStrings("flags", r.Flags)
}

func (r *DownloadRequest) check() *ProtocolError {
	if perr := checkMailbox("mailbox", r.Mailbox); perr != nil {
		return perr
	}
	if r.UID == 0 {
		return invalid("\"uid\" must be a UID (1 or more)")
	}
	if len(r.Part) > 256 || strings.Trim(r.Part, "0123456789.") != "" && r.Part != "eml" {
		return invalid("\"part\" must be a part number like \"1.2\", or omitted for the whole message")
	}
	if r.CID != "" && (r.Part != "" || len(r.CID) > 256) {
		return invalid("\"cid\" excludes \"part\" and has at most 256 characters")
	}
	switch r.Disposition {
	case "", "inline", "attachment":
	default:
		return invalid("\"disposition\" must be \"inline\" or \"attachment\"")
	}
	return nil
}

func (r *UploadRequest) check() *ProtocolError {
	if perr := checkMailbox("mailbox", r.Mailbox); perr != nil {
		return perr
	}
	if r.Size <= 0 {
		return invalid("\"size\" must be the message size in bytes (1 or more)")
	}
	return checkStrings("flags", r.Flags)
}

func (r *MailboxRequest) check() *ProtocolError {
	return checkMailbox("mailbox", r.Mailbox)
}

func (r *RenameRequest) check() *ProtocolError {
	if perr := checkMailbox("mailbox", r.Mailbox); perr != nil {
		return perr
	}
	return checkMailbox("to", r.To)
}

func (r *NoopRequest) check() *ProtocolError { return nil }

func (r *LogoutRequest) check() *ProtocolError { return nil }
