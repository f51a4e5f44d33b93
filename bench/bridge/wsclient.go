package bridgebench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/coder/websocket"

	"github.com/imapbridge/imapbridge/bridge/protocol"
)

// MaxClientFrame bounds one server frame the bench client reads.
const MaxClientFrame = 16 << 20

// Session is one bench client connection to the bridge. Its methods must
// not be called concurrently.
type Session struct {
	conn *websocket.Conn
	next uint64
	// Hello is the bridge's hello frame.
	Hello *protocol.Hello
	// OnEvent, if set, sees every event frame read while waiting for
	// something else.
	OnEvent func(*protocol.Event)
}

// Dial opens a WebSocket to url with the bench Origin and the token as a
// subprotocol, and waits for hello.
func Dial(ctx context.Context, url, token string) (*Session, error) {
	h := http.Header{}
	h.Set("Origin", Origin)
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPHeader:      h,
		Subprotocols:    []string{protocol.Subprotocol, protocol.BearerPrefix + token},
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, fmt.Errorf("bridgebench: dial: %w", err)
	}
	c.SetReadLimit(MaxClientFrame)
	s := &Session{conn: c}
	for {
		f, err := s.read(ctx)
		if err != nil {
			s.Close()
			return nil, err
		}
		switch f := f.(type) {
		case *protocol.Hello:
			s.Hello = f
			return s, nil
		case *protocol.ErrorFrame:
			s.Close()
			return nil, fmt.Errorf("%w: before hello: %s %s", ErrBench, f.Error.Code, f.Error.Message)
		}
	}
}

// OpenSession dials, logs in with password (password credential mode) and
// selects mailbox; the bridge then idles the session's IMAP connection.
func OpenSession(ctx context.Context, url, token, password, mailbox string) (*Session, error) {
	s, err := Dial(ctx, url, token)
	if err != nil {
		return nil, err
	}
	if _, err := s.Do(ctx, &protocol.LoginRequest{Header: protocol.Header{Operation: protocol.OpLogin}, Password: password}); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := s.Do(ctx, &protocol.SelectRequest{Header: protocol.Header{Operation: protocol.OpSelect}, Mailbox: mailbox}); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Do sends req with a fresh id and waits for its answer, passing events read
// meanwhile to OnEvent. An error frame is returned as an error.
func (s *Session) Do(ctx context.Context, req any) (*protocol.Response, error) {
	s.next++
	id := "b" + strconv.FormatUint(s.next, 36)
	if err := setID(req, id); err != nil {
		return nil, err
	}
	data, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("bridgebench: encode request: %w", err)
	}
	if err := s.conn.Write(ctx, websocket.MessageText, data); err != nil {
		return nil, fmt.Errorf("bridgebench: write: %w", err)
	}
	for {
		f, err := s.read(ctx)
		if err != nil {
			return nil, err
		}
		switch f := f.(type) {
		case *protocol.Response:
			if f.ID == id {
				return f, nil
			}
		case *protocol.ErrorFrame:
			if f.ID == id || f.ID == "" {
				return nil, fmt.Errorf("%w: %s: %s %s", ErrBench, opOf(req), f.Error.Code, f.Error.Message)
			}
		}
	}
}

// setID fills the Header of one of the protocol's request types.
func setID(req any, id string) error {
	switch r := req.(type) {
	case *protocol.LoginRequest:
		r.ID = id
	case *protocol.SelectRequest:
		r.ID = id
	case *protocol.NoopRequest:
		r.ID = id
	case *protocol.FetchRequest:
		r.ID = id
	case *protocol.LogoutRequest:
		r.ID = id
	case *protocol.DownloadRequest:
		r.ID = id
	case *protocol.UploadRequest:
		r.ID = id
	case *protocol.FindRequest:
		r.ID = id
	case *protocol.SortRequest:
		r.ID = id
	case *protocol.ThreadRequest:
		r.ID = id
	default:
		return fmt.Errorf("%w: request type %T not supported by the bench client", ErrBench, req)
	}
	return nil
}

func opOf(req any) string {
	if r, ok := req.(protocol.Request); ok {
		return r.Op()
	}
	return "?"
}

// WaitEvent reads frames until an event for which match is true arrives.
func (s *Session) WaitEvent(ctx context.Context, match func(*protocol.Event) bool) (*protocol.Event, error) {
	for {
		f, err := s.read(ctx)
		if err != nil {
			return nil, err
		}
		if e, ok := f.(*protocol.Event); ok && match(e) {
			return e, nil
		}
	}
}

// read reads and decodes one server frame; events go to OnEvent.
func (s *Session) read(ctx context.Context) (protocol.Frame, error) {
	_, data, err := s.conn.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("bridgebench: read: %w", err)
	}
	f, err := protocol.DecodeFrame(data)
	if err != nil {
		return nil, fmt.Errorf("bridgebench: decode frame: %w", err)
	}
	if e, ok := f.(*protocol.Event); ok && s.OnEvent != nil {
		s.OnEvent(e)
	}
	return f, nil
}

// Close closes the WebSocket without a logout frame (the bridge logs the
// IMAP connection out itself).
func (s *Session) Close() error {
	return s.conn.Close(websocket.StatusNormalClosure, "")
}

// Logout sends logout and waits for the answer; the bridge then closes.
func (s *Session) Logout(ctx context.Context) error {
	_, err := s.Do(ctx, &protocol.LogoutRequest{Header: protocol.Header{Operation: protocol.OpLogout}})
	s.conn.CloseNow()
	return err
}
