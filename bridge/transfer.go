package bridge

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imapbridge/imapbridge/auth"
	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// Transfers: a session asks (download / upload ops) for a one-time ticket;
// the browser then GETs or PUTs /transfer/<ticket>. Each transfer runs on a
// short-lived IMAP connection of its own, counted in the user's session
// budget (Limits.SessionsPerUser) and in Limits.TransfersPerUser, so the
// WebSocket session keeps serving requests and events meanwhile.

// TransferPath is the URL path prefix of ticketed transfers.
const TransferPath = "/transfer/"

// TicketBytes is the entropy of a ticket (256 bits, base64url).
const TicketBytes = 32

// TransferConnectTimeout bounds opening a transfer's IMAP connection.
const TransferConnectTimeout = 30 * time.Second

type ticketKind int

const (
	ticketDownload ticketKind = iota
	ticketUpload
)

// ticket is what a one-time URL stands for. It carries what the transfer
// connection needs (upstream, claims, password mode's password) and never
// the JWT.
type ticket struct {
	kind     ticketKind
	user     string
	origin   string
	expires  time.Time
	used     bool
	released bool // expired unused: no longer counted in the user's TicketsPerUser
	ups      *Upstream
	claims   *auth.Claims
	password string
	dl       protocol.DownloadRequest
	ul       protocol.UploadRequest
}

// ticketStore holds unused and recently used tickets, and the transfers
// running per user.
type ticketStore struct {
	mu      sync.Mutex
	m       map[string]*ticket
	perUser map[string]int // tickets held
	running map[string]int // transfers running
}

func newTicketStore() *ticketStore {
	return &ticketStore{m: map[string]*ticket{}, perUser: map[string]int{}, running: map[string]int{}}
}

// sweepLocked stops counting expired unused tickets against their user's
// TicketsPerUser at once, and drops tickets past their expiry by more than
// DefaultTicketTTL (kept that long so a late use says 410, not 403).
func (ts *ticketStore) sweepLocked(now time.Time) {
	for id, t := range ts.m {
		if !t.used && !t.released && now.After(t.expires) {
			t.released = true
			ts.releaseLocked(t.user)
		}
		if now.After(t.expires.Add(DefaultTicketTTL)) {
			delete(ts.m, id)
		}
	}
}

func (ts *ticketStore) releaseLocked(user string) {
	if ts.perUser[user] <= 1 {
		delete(ts.perUser, user)
	} else {
		ts.perUser[user]--
	}
}

// issue stores t and returns its id, or false when the user holds max.
func (ts *ticketStore) issue(t *ticket, max int) (string, bool) {
	var b [TicketBytes]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.sweepLocked(time.Now())
	if ts.perUser[t.user] >= max {
		return "", false
	}
	ts.perUser[t.user]++
	ts.m[id] = t
	return id, true
}

// Ticket refusals, as HTTP statuses: an unknown ticket or a wrong Origin is
// 403, a used or expired one 410.
var (
	errTicketUnknown = errors.New("bridge: unknown ticket")
	errTicketGone    = errors.New("bridge: ticket used or expired")
	errTicketOrigin  = errors.New("bridge: ticket bound to another origin")
)

// take consumes the ticket id for kind from origin (single use).
func (ts *ticketStore) take(id string, kind ticketKind, origin string, now time.Time) (*ticket, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t := ts.m[id]
	switch {
	case t == nil || t.kind != kind:
		return nil, errTicketUnknown
	case t.used || now.After(t.expires):
		return nil, errTicketGone
	case origin != "" && origin != t.origin:
		// Browsers send Origin on every cross-origin request and every PUT;
		// a plain navigation or <img> GET sends none, and then the
		// unguessable single-use ticket is the credential.
		return nil, errTicketOrigin
	case kind == ticketUpload && origin == "" && t.origin != "":
		return nil, errTicketOrigin
	}
	t.used = true
	if !t.released {
		ts.releaseLocked(t.user)
	}
	return t, nil
}

// startTransfer counts a running transfer for user; false at max.
func (ts *ticketStore) startTransfer(user string, max int) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.running[user] >= max {
		return false
	}
	ts.running[user]++
	return true
}

func (ts *ticketStore) endTransfer(user string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.running[user] <= 1 {
		delete(ts.running, user)
	} else {
		ts.running[user]--
	}
}

// newTicket fills the fields every ticket of this session shares.
func (s *session) newTicket(kind ticketKind) *ticket {
	return &ticket{kind: kind, user: s.claims.Subject, origin: s.origin, ups: s.ups, claims: s.claims,
		password: s.password, expires: time.Now().Add(s.srv.lim.TicketTTL)}
}

func (s *session) issue(t *ticket) (protocol.TicketResult, error) {
	id, ok := s.srv.tickets.issue(t, s.srv.lim.TicketsPerUser)
	if !ok {
		return protocol.TicketResult{}, fail(protocol.CodeLimit, "too many unused transfer tickets")
	}
	s.srv.announceTicket(s.ctx, id, t.expires)
	return protocol.TicketResult{URL: TransferPath + id, ExpiresAt: t.expires.UTC().Truncate(time.Second)}, nil
}

// downloadTicket answers the download op. No IMAP traffic: the part is
// looked up when the URL is used.
func (s *session) downloadTicket(r *protocol.DownloadRequest) (protocol.TicketResult, error) {
	if err := s.checkMailbox(r.Mailbox, false); err != nil {
		return protocol.TicketResult{}, err
	}
	t := s.newTicket(ticketDownload)
	t.dl = *r
	return s.issue(t)
}

// uploadTicket answers the upload op.
func (s *session) uploadTicket(r *protocol.UploadRequest) (protocol.TicketResult, error) {
	if err := s.checkMailbox(r.Mailbox, true); err != nil {
		return protocol.TicketResult{}, err
	}
	if r.Size > s.srv.lim.MaxUploadBytes {
		return protocol.TicketResult{}, fail(protocol.CodeLimit, fmt.Sprintf("message larger than %d bytes", s.srv.lim.MaxUploadBytes))
	}
	if _, err := parseFlags(r.Flags); err != nil {
		return protocol.TicketResult{}, err
	}
	t := s.newTicket(ticketUpload)
	t.ul = *r
	return s.issue(t)
}

// serveTransfer is GET (download) and PUT (upload) on /transfer/<ticket>.
func (s *Server) serveTransfer(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	var kind ticketKind
	switch r.Method {
	case http.MethodGet:
		kind = ticketDownload
	case http.MethodPut:
		kind = ticketUpload
	default:
		h.Set("Allow", "GET, PUT")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	t, err := s.tickets.take(r.PathValue("ticket"), kind, r.Header.Get("Origin"), time.Now())
	if errors.Is(err, errTicketUnknown) && s.forwardTicket(w, r, r.PathValue("ticket")) {
		return // another replica's ticket, served there
	}
	if err != nil {
		s.met.refused.WithLabelValues("ticket").Inc()
		code := http.StatusForbidden
		if errors.Is(err, errTicketGone) {
			code = http.StatusGone
		}
		http.Error(w, err.Error(), code)
		return
	}
	if kind == ticketUpload {
		// Checked before any IMAP traffic: the declared size is the PUT's.
		switch {
		case r.ContentLength < 0:
			http.Error(w, "Content-Length required", http.StatusLengthRequired)
			return
		case r.ContentLength != t.ul.Size:
			http.Error(w, fmt.Sprintf("Content-Length %d is not the declared size %d", r.ContentLength, t.ul.Size), http.StatusBadRequest)
			return
		}
	}
	if !s.tickets.startTransfer(t.user, s.lim.TransfersPerUser) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many transfers for this user", http.StatusTooManyRequests)
		return
	}
	defer s.tickets.endTransfer(t.user)
	adm, err := s.admit(r.Context(), t.claims, t.ups, false)
	if err != nil {
		le := err.(*limitError)
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(le.retryAfter.Round(time.Second)/time.Second))))
		http.Error(w, le.msg, http.StatusTooManyRequests)
		return
	}
	defer adm.release()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c, err := s.dialTransfer(ctx, t)
	var lre *LoginRateError
	if errors.As(err, &lre) {
		s.met.refused.WithLabelValues("login_rate").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(int(lre.Wait/time.Second)+1))
		http.Error(w, "IMAP login rate limit: retry later", http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		s.log.Info("transfer connect failed", "user", t.user, "err", errSummary(err))
		http.Error(w, "IMAP server unavailable", http.StatusBadGateway)
		return
	}
	defer func() {
		lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = c.Logout(lctx)
		lcancel()
		c.Shutdown()
	}()
	if kind == ticketDownload {
		s.download(ctx, w, c, &t.dl)
	} else {
		s.upload(ctx, w, r, c, &t.ul)
	}
}

// dialTransfer opens and authenticates a transfer's IMAP connection.
func (s *Server) dialTransfer(ctx context.Context, t *ticket) (*imapengine.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, TransferConnectTimeout)
	defer cancel()
	opts := s.cfg.IMAP
	opts.OnEvent = nil
	opts.Logger = nil
	d := &Dialer{Resolver: s.cfg.Resolver, AllowPrivate: t.ups.AllowPrivate, Dial: s.cfg.Dial}
	c, err := t.ups.dial(ctx, t.claims.IMAPUser, d, opts)
	if err != nil {
		return nil, err
	}
	if t.ups.Security == SecurityStdio || c.State() != imapengine.StateNonAuth {
		return c, nil
	}
	switch t.claims.Credential {
	case auth.CredentialMaster:
		_, err = c.AuthenticateSASL(ctx, imapengine.PlainAuth(t.claims.IMAPUser, t.ups.MasterUser, t.ups.MasterPassword))
	case auth.CredentialOAuth:
		mech := imapengine.XOAuth2(t.claims.IMAPUser, t.claims.OAuthToken)
		if t.ups.OAuthMechanism == "OAUTHBEARER" {
			mech = imapengine.OAuthBearer(t.claims.IMAPUser, t.claims.OAuthToken, "", 0)
		}
		_, err = c.AuthenticateSASL(ctx, mech)
	default:
		if t.password == "" {
			err = errors.New("bridge: session not logged in")
		} else if c.HasCapability("LOGINDISABLED") || !c.HasCapability("IMAP4REV1") {
			_, err = c.AuthenticateSASL(ctx, imapengine.PlainAuth("", t.claims.IMAPUser, t.password))
		} else {
			_, err = c.Login(ctx, t.claims.IMAPUser, t.password)
		}
	}
	if err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// download streams the part (decoded) or the whole message. Once the first
// byte is sent, a failure aborts the response (the browser sees a failed
// download, never a truncated file presented as complete).
func (s *Server) download(ctx context.Context, w http.ResponseWriter, c *imapengine.Client, d *protocol.DownloadRequest) {
	sel, err := c.SelectMailbox(ctx, d.Mailbox, &imapengine.SelectOptions{ReadOnly: true})
	if err != nil {
		http.Error(w, "mailbox not found", http.StatusNotFound)
		return
	}
	if d.UIDValidity != 0 && sel.UIDValidity != d.UIDValidity {
		http.Error(w, "UIDVALIDITY changed", http.StatusGone)
		return
	}
	uid := strconv.FormatUint(uint64(d.UID), 10)
	msgs, err := c.FetchMessages(ctx, uid, "(UID BODYSTRUCTURE)", &imapengine.FetchOptions{UID: true})
	if err != nil || len(msgs) == 0 || msgs[0].BodyStructure == nil {
		http.Error(w, "message not found", http.StatusNotFound)
		return
	}
	bs := msgs[0].BodyStructure
	section, enc := "", ""
	ctype, name := "message/rfc822", uid+".eml"
	var part *imap.BodyStructure
	switch {
	case d.CID != "":
		part = bs.FindContentID(d.CID)
	case d.Part != "":
		part = bs.Find(d.Part)
	}
	if d.CID != "" || d.Part != "" {
		if part == nil {
			http.Error(w, "no such part", http.StatusNotFound)
			return
		}
		section, enc, name = part.PartNumber, part.Encoding, part.Filename()
		ctype = part.MediaType()
		if cs := part.Params["charset"]; cs != "" && part.Type == "text" {
			ctype = mime.FormatMediaType(ctype, map[string]string{"charset": cs})
		}
		if name == "" {
			name = "part-" + section
		}
	}
	disp := d.Disposition
	if disp == "" {
		disp = "attachment"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", ContentDisposition(disp, name))
	h.Set("Content-Security-Policy", "sandbox")
	started := false
	err = c.FetchSection(ctx, d.UID, section, func(r io.Reader, size int64) error {
		dec, derr := imap.DecodeTransfer(enc, r)
		if derr == nil && dec == r {
			h.Set("Content-Length", strconv.FormatInt(size, 10)) // identity: the decoded size is the literal's
		}
		started = true
		w.WriteHeader(http.StatusOK)
		// A decoder returns a few hundred bytes per Read (encoding/base64:
		// at most 768): gathered into StreamChunkSize writes, the response
		// goes out in large chunks, not a 2 KiB chunk and a syscall per
		// 4 KiB. (writerOnly hides bufio's ReadFrom, which would hand the
		// decoder straight to the ResponseWriter's small-copy ReadFrom.)
		bw := bufio.NewWriterSize(w, imapengine.StreamChunkSize)
		if _, err := io.CopyBuffer(writerOnly{bw}, dec, make([]byte, imapengine.StreamChunkSize)); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err == nil {
		return
	}
	if !started {
		if errors.Is(err, imapengine.ErrNoSection) {
			http.Error(w, "no such part", http.StatusNotFound)
		} else {
			http.Error(w, "IMAP fetch failed", http.StatusBadGateway)
		}
		return
	}
	s.log.Info("download aborted", "err", errSummary(err))
	panic(http.ErrAbortHandler) // net/http drops the connection: no clean end of body
}

// writerOnly is an io.Writer with no other methods (no ReadFrom).
type writerOnly struct{ io.Writer }

// upload appends the PUT body, streamed to the IMAP literal.
func (s *Server) upload(ctx context.Context, w http.ResponseWriter, r *http.Request, c *imapengine.Client, u *protocol.UploadRequest) {
	fl, err := parseFlags(u.Flags)
	if err != nil {
		http.Error(w, "bad flags", http.StatusBadRequest)
		return
	}
	var date time.Time
	if u.Date != nil {
		date = *u.Date
	}
	body := &idleReader{r: http.MaxBytesReader(w, r.Body, u.Size), rc: http.NewResponseController(w), idle: s.lim.UploadIdleTimeout}
	au, err := c.AppendStream(ctx, u.Mailbox, fl, date, body, u.Size)
	if err != nil {
		var se *imapengine.StatusError
		switch {
		case errors.Is(err, imapengine.ErrShortSource):
			http.Error(w, "upload incomplete: fewer bytes than declared, or idle too long", http.StatusBadRequest)
		case errors.As(err, &se):
			// The response code (TRYCREATE, OVERQUOTA, TOOBIG) tells the
			// client what to do; the server's free text is not passed on.
			why := se.Status
			if se.Code != "" {
				why += " [" + se.Code + "]"
			}
			http.Error(w, "IMAP server refused the message: "+why, http.StatusUnprocessableEntity)
		default:
			http.Error(w, "IMAP append failed", http.StatusBadGateway)
		}
		return
	}
	res := protocol.AppendResult{}
	if au != nil {
		res = protocol.FromAppendUID(au)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

// idleReader extends the request's read deadline before each read, so an
// upload that stalls for idle fails while a slow one that progresses does not.
type idleReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
}

func (ir *idleReader) Read(p []byte) (int, error) {
	_ = ir.rc.SetReadDeadline(time.Now().Add(ir.idle))
	return ir.r.Read(p)
}

// ContentDisposition renders a Content-Disposition header: the type, an
// ASCII fallback filename, and for non-ASCII names filename* in UTF-8
// (RFC 6266 §4.3, RFC 8187). Path separators and controls are replaced.
func ContentDisposition(disposition, name string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f || r == '/' || r == '\\':
			return '_'
		}
		return r
	}, name)
	ascii := strings.Map(func(r rune) rune {
		if r > 0x7e || r == '"' {
			return '_'
		}
		return r
	}, name)
	v := disposition + `; filename="` + ascii + `"`
	if ascii != name {
		var b strings.Builder
		for _, c := range []byte(name) {
			if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		v += "; filename*=UTF-8''" + b.String()
	}
	return v
}
