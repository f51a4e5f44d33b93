package protocol

import (
	"encoding/json"
	"fmt"
)

// Event is an event frame, pushed as IMAP untagged data arrives. Only the
// members of its kind are encoded:
//
//	exists, recent  mailbox, count
//	expunge         mailbox, uid, seqnum
//	flags           mailbox, uid, seqnum, flags, modseq (when not 0)
//	vanished        mailbox, uids, earlier
//	mailbox_reset   mailbox, uidValidity
//	alert, bye      text
//	state           state
//	status          mailbox, status (the watched mailbox's new values)
type Event struct {
	// Seq is the per-session event counter: 1 for the first event, then
	// +1 with no gaps.
	Seq uint64
	// Event is the kind, one of Events.
	Event string
	// Mailbox is the selected mailbox the event belongs to.
	Mailbox string
	// Count is the EXISTS or RECENT count.
	Count uint32
	// UID and SeqNum identify the message of expunge and flags.
	UID    uint32
	SeqNum uint32
	// Flags are the message's flags after a change.
	Flags []string
	// ModSeq is the message's mod-sequence, 0 if unknown.
	ModSeq uint64
	// UIDs is the set of vanished UIDs.
	UIDs string
	// Earlier is VANISHED (EARLIER).
	Earlier bool
	// UIDValidity is the mailbox's new UIDVALIDITY.
	UIDValidity uint32
	// Text is the alert or bye text.
	Text string
	// State is the session state, one of the State constants.
	State string
	// Status holds a status event's values.
	Status *StatusValues
}

// eventJSON is the wire form of Event; nil members are omitted.
type eventJSON struct {
	Type        string        `json:"type"`
	Seq         uint64        `json:"seq"`
	Event       string        `json:"event"`
	Mailbox     *string       `json:"mailbox,omitempty"`
	Count       *uint32       `json:"count,omitempty"`
	UID         *uint32       `json:"uid,omitempty"`
	SeqNum      *uint32       `json:"seqnum,omitempty"`
	Flags       *[]string     `json:"flags,omitempty"`
	ModSeq      *uint64       `json:"modseq,omitempty"`
	UIDs        *string       `json:"uids,omitempty"`
	Earlier     *bool         `json:"earlier,omitempty"`
	UIDValidity *uint32       `json:"uidValidity,omitempty"`
	Text        *string       `json:"text,omitempty"`
	State       *string       `json:"state,omitempty"`
	Status      *StatusValues `json:"status,omitempty"`
}

// FrameType implements Frame.
func (Event) FrameType() string { return TypeEvent }

// MarshalJSON implements json.Marshaler. An unknown kind is an error.
func (e Event) MarshalJSON() ([]byte, error) {
	w := eventJSON{Type: TypeEvent, Seq: e.Seq, Event: e.Event}
	switch e.Event {
	case EventExists, EventRecent:
		w.Mailbox, w.Count = &e.Mailbox, &e.Count
	case EventExpunge:
		w.Mailbox, w.UID, w.SeqNum = &e.Mailbox, &e.UID, &e.SeqNum
	case EventFlags:
		flags := e.Flags
		if flags == nil {
			flags = []string{}
		}
		w.Mailbox, w.UID, w.SeqNum, w.Flags = &e.Mailbox, &e.UID, &e.SeqNum, &flags
		if e.ModSeq != 0 {
			w.ModSeq = &e.ModSeq
		}
	case EventVanished:
		w.Mailbox, w.UIDs, w.Earlier = &e.Mailbox, &e.UIDs, &e.Earlier
	case EventMailboxReset:
		w.Mailbox, w.UIDValidity = &e.Mailbox, &e.UIDValidity
	case EventAlert, EventBye:
		w.Text = &e.Text
	case EventState:
		w.State = &e.State
	case EventStatus:
		st := e.Status
		if st == nil {
			st = &StatusValues{}
		}
		w.Mailbox, w.Status = &e.Mailbox, st
	default:
		return nil, fmt.Errorf("protocol: unknown event kind %.32q", e.Event)
	}
	return json.Marshal(w)
}

// UnmarshalJSON implements json.Unmarshaler (lenient, for clients).
func (e *Event) UnmarshalJSON(data []byte) error {
	var w eventJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*e = Event{Seq: w.Seq, Event: w.Event}
	if w.Mailbox != nil {
		e.Mailbox = *w.Mailbox
	}
	if w.Count != nil {
		e.Count = *w.Count
	}
	if w.UID != nil {
		e.UID = *w.UID
	}
	if w.SeqNum != nil {
		e.SeqNum = *w.SeqNum
	}
	if w.Flags != nil {
		e.Flags = *w.Flags
	}
	if w.ModSeq != nil {
		e.ModSeq = *w.ModSeq
	}
	if w.UIDs != nil {
		e.UIDs = *w.UIDs
	}
	if w.Earlier != nil {
		e.Earlier = *w.Earlier
	}
	if w.UIDValidity != nil {
		e.UIDValidity = *w.UIDValidity
	}
	if w.Text != nil {
		e.Text = *w.Text
	}
	if w.State != nil {
		e.State = *w.State
	}
	e.Status = w.Status
	return nil
}
