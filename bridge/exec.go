package bridge

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/imapbridge/imapbridge/bridge/protocol"
	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// execLoop runs requests one at a time, in arrival order. Whenever a mailbox
// is selected and no request is waiting, the IMAP connection idles (IDLE, or
// NOOP polling without it) so untagged data is pushed as it arrives; a new
// request leaves IDLE transparently and idling resumes after it.
func (s *session) execLoop() {
	for {
		if s.ctx.Err() != nil {
			return
		}
		if s.selectedMailbox() != "" {
			// A short quiet period before re-entering IDLE: a browser that sends
			// requests back to back does not pay two IDLE round trips for each.
			t := time.NewTimer(s.srv.lim.IdleDelay)
			select {
			case r := <-s.requests:
				t.Stop()
				s.handle(r)
				continue
			case <-s.pollC:
				t.Stop()
				s.pollStatus()
				continue
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if !s.idleUntilRequest() {
				return
			}
			continue
		}
		select {
		case r := <-s.requests:
			s.handle(r)
		case <-s.pollC:
			s.pollStatus()
		case <-s.ctx.Done():
			return
		case <-s.client.Done():
			s.upstreamLost()
			return
		}
	}
}

// idleUntilRequest idles, in the executor's own goroutine, until a request
// arrives or a watch poll is due (readLoop and the watch timer interrupt the
// IdleLoop; execLoop then handles what came) or the session ends; false
// means the session is over.
func (s *session) idleUntilRequest() bool {
	ictx, stop := context.WithCancel(s.ctx)
	defer stop()
	s.idleMu.Lock()
	s.idleStop = stop
	s.idleMu.Unlock()
	if len(s.requests) > 0 || len(s.pollC) > 0 {
		stop() // queued before idleStop was set: its sender did not see it
	}
	s.state(protocol.StateIdle)
	err := s.client.IdleLoop(ictx, &s.srv.cfg.Idle)
	s.idleMu.Lock()
	s.idleStop = nil
	s.idleMu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	if err != nil || s.client.Err() != nil {
		// Leaving IDLE failed (a dead or half-open link): a request that
		// interrupted it is answered with that failure (security F13).
		if err == nil {
			err = s.client.Err()
		}
		select {
		case r := <-s.requests:
			s.sendRequestError(r.req.RequestID(), err)
		default:
		}
		s.upstreamLost()
		return false
	}
	return true
}

// interruptIdle ends the IdleLoop in progress, if any, so the executor takes
// the request just queued.
func (s *session) interruptIdle() {
	s.idleMu.Lock()
	if s.idleStop != nil {
		s.idleStop()
	}
	s.idleMu.Unlock()
}

// upstreamLost reports a dead IMAP connection and ends the session so the
// client reconnects and resynchronises (CloseUpstream).
func (s *session) upstreamLost() {
	if s.ctx.Err() != nil {
		return
	}
	s.sendError("", protocol.CodeUnavailable, "IMAP connection lost", nil)
	s.closeWith(protocol.CloseUpstream, "upstream lost")
}

// state pushes a state event when the session's state changes.
func (s *session) state(st string) {
	s.evMu.Lock()
	changed := s.lastState != st
	s.lastState = st
	s.evMu.Unlock()
	if changed {
		s.pushEvent(protocol.Event{Event: protocol.EventState, State: st}, time.Time{})
	}
}

// flushEvents waits until the engine has handed onEvent every event caused
// by data read before the last tagged response, so those event frames are
// queued before whatever the executor sends next.
func (s *session) flushEvents(ctx context.Context) {
	if err := s.client.WaitEvents(ctx); err != nil {
		s.log.Debug("events not flushed", "err", errSummary(err))
	}
}

// leaveMailbox forgets the selected mailbox once the events of the one being
// left have been pushed (so they still name it).
func (s *session) leaveMailbox(ctx context.Context) {
	s.flushEvents(ctx)
	s.setMailbox("")
}

func (s *session) selectedMailbox() string {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	return s.mailbox
}

func (s *session) setMailbox(m string) {
	s.evMu.Lock()
	s.mailbox = m
	s.evMu.Unlock()
}

// pushEvent numbers an event and queues it.
func (s *session) pushEvent(e protocol.Event, received time.Time) {
	s.evMu.Lock()
	s.evSeq++
	e.Seq = s.evSeq
	if e.Mailbox == "" && e.Event != protocol.EventState && e.Event != protocol.EventAlert && e.Event != protocol.EventBye {
		e.Mailbox = s.mailbox
	}
	// Queue under evMu so frames leave in sequence order.
	s.sendFrame(e, e.Event, received)
	s.evMu.Unlock()
}

// onEvent turns the engine's unsolicited data into event frames at once.
func (s *session) onEvent(ev imapengine.Event) {
	var e protocol.Event
	switch ev.Kind {
	case imapengine.EventExists:
		e = protocol.Event{Event: protocol.EventExists, Count: ev.Count}
	case imapengine.EventRecent:
		e = protocol.Event{Event: protocol.EventRecent, Count: ev.Count}
	case imapengine.EventExpunge:
		e = protocol.Event{Event: protocol.EventExpunge, UID: uint32(ev.UID), SeqNum: uint32(ev.Seq)}
	case imapengine.EventFetch:
		if ev.Message == nil || !ev.Message.HasFlags {
			return
		}
		e = protocol.Event{Event: protocol.EventFlags, UID: uint32(ev.UID), SeqNum: uint32(ev.Seq),
			Flags: flagStrings(ev.Message.Flags), ModSeq: ev.Message.ModSeq}
	case imapengine.EventVanished:
		if ev.Vanished == nil {
			return
		}
		e = protocol.FromVanished("", ev.Vanished)
	case imapengine.EventAlert:
		e = protocol.Event{Event: protocol.EventAlert, Text: ev.Text}
	case imapengine.EventBye:
		e = protocol.Event{Event: protocol.EventBye, Text: ev.Text}
	case imapengine.EventStatus:
		s.notifyStatus(ev)
		return
	default:
		return
	}
	s.pushEvent(e, ev.Received)
	switch ev.Kind {
	case imapengine.EventExists, imapengine.EventExpunge, imapengine.EventFetch, imapengine.EventVanished:
		s.selectedChanged()
	}
}

func flagStrings(fl []imap.Flag) []string {
	out := make([]string, len(fl))
	for i, f := range fl {
		out[i] = string(f)
	}
	return out
}

// handle runs one request and sends its response or error frame.
func (s *session) handle(r received) {
	op := r.req.Op()
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Minute)
	res, err := s.dispatch(ctx, r.req)
	// Events from untagged data the server sent before the command's tagged
	// line go out before its answer (docs/protocol.md §5).
	s.flushEvents(ctx)
	cancel()
	status := "ok"
	if err != nil {
		status = s.sendRequestError(r.req.RequestID(), err)
		s.srv.met.errors.WithLabelValues(status).Inc()
	} else {
		if res != nil {
			s.sendFrame(res, "", time.Time{})
		}
		s.afterRequest(r.req)
	}
	s.srv.met.commands.WithLabelValues(op, status).Inc()
	s.srv.met.latency.WithLabelValues(op).Observe(time.Since(r.at).Seconds())
	if s.selectedMailbox() == "" {
		s.state(protocol.StateReady)
	}
	if s.client.Err() != nil {
		s.upstreamLost()
	}
}

// reqError is a request failure with its protocol error code.
type reqError struct {
	code protocol.ErrorCode
	msg  string
}

func (e *reqError) Error() string { return "bridge: " + string(e.code) + ": " + e.msg }

func fail(code protocol.ErrorCode, msg string) error { return &reqError{code: code, msg: msg} }

// sendRequestError maps err to an error frame and returns the metrics status.
func (s *session) sendRequestError(id string, err error) string {
	var ie *imaplibErr
	if errors.As(err, &ie) {
		exc := ie.exc
		s.sendFrame(protocol.ErrorFrame{ID: id, Error: protocol.ErrorInfo{Code: protocol.CodeImaplib,
			Message: "imaplib raised IMAP4." + exc.Exception, IMAP: ie.imap, Imaplib: &exc}}, "", time.Time{})
		return string(protocol.CodeImaplib)
	}
	var sf *smtpFailure
	if errors.As(err, &sf) {
		s.sendFrame(protocol.ErrorFrame{ID: id, Error: protocol.ErrorInfo{Code: protocol.CodeSMTP, Message: sf.msg, SMTP: sf.info}}, "", time.Time{})
		return string(protocol.CodeSMTP)
	}
	var re *reqError
	if errors.As(err, &re) {
		s.sendError(id, re.code, re.msg, nil)
		return string(re.code)
	}
	var se *imapengine.StatusError
	if errors.As(err, &se) {
		code := protocol.CodeIMAPNo
		if se.Status == "BAD" {
			code = protocol.CodeIMAPBad
		}
		s.sendError(id, code, "the IMAP server refused the command", imapErr(err))
		return string(code)
	}
	switch {
	case errors.Is(err, imapengine.ErrBadArgument):
		s.sendError(id, protocol.CodeBadRequest, "invalid argument", nil)
		return string(protocol.CodeBadRequest)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, imapengine.ErrTimeout):
		s.sendError(id, protocol.CodeTimeout, "the IMAP server did not answer in time", nil)
		return string(protocol.CodeTimeout)
	case errors.Is(err, imapengine.ErrNotSupported):
		s.sendError(id, protocol.CodeUnavailable, "not supported by the IMAP server", nil)
		return string(protocol.CodeUnavailable)
	case errors.Is(err, imapengine.ErrAbort):
		s.sendError(id, protocol.CodeAbort, "IMAP connection lost", nil)
		return string(protocol.CodeAbort)
	case errors.Is(err, imapengine.ErrIMAP):
		s.sendError(id, protocol.CodeBadRequest, "command not possible now", nil)
		return string(protocol.CodeBadRequest)
	}
	s.log.Warn("request failed", "err", errSummary(err))
	s.sendError(id, protocol.CodeUnavailable, "request failed", nil)
	return string(protocol.CodeUnavailable)
}

// imapErr extracts the server's NO/BAD for an error frame.
func imapErr(err error) *protocol.IMAPError {
	var se *imapengine.StatusError
	if !errors.As(err, &se) {
		return nil
	}
	text := se.Text
	if se.Code != "" {
		// Drop the "[CODE arg] " prefix from the human text.
		if i := strings.IndexByte(text, ']'); i >= 0 && i+1 < len(text) {
			text = strings.TrimLeft(text[i+1:], " ")
		}
	}
	return &protocol.IMAPError{Type: se.Status, Code: se.Code, Text: text}
}
