package imap

// Field indexes of an ENVELOPE list (RFC 3501 §7.4.2).
const (
	envDate = iota
	envSubject
	envFrom
	envSender
	envReplyTo
	envTo
	envCc
	envBcc
	envInReplyTo
	envMessageID
	envFields // number of fields
)

// envelope reads an ENVELOPE list, or NIL (nil result).
func (p *parser) envelope() *Envelope {
	s := p.s
	if c, ok := s.Peek(); !ok || c != '(' {
		if _, isStr := s.NString(); isStr {
			p.failf("envelope is a string")
		}
		return nil
	}
	env := &Envelope{}
	i := 0
	s.List(func() {
		switch i {
		case envDate:
			env.Date = p.nstring(&env.Lossy)
		case envSubject:
			b, _ := s.NString()
			var lossy bool
			env.Subject, lossy = decodeHeader(b)
			env.Lossy = env.Lossy || lossy
		case envFrom:
			env.From = p.addressList(&env.Lossy)
		case envSender:
			env.Sender = p.addressList(&env.Lossy)
		case envReplyTo:
			env.ReplyTo = p.addressList(&env.Lossy)
		case envTo:
			env.To = p.addressList(&env.Lossy)
		case envCc:
			env.Cc = p.addressList(&env.Lossy)
		case envBcc:
			env.Bcc = p.addressList(&env.Lossy)
		case envInReplyTo:
			env.InReplyTo = p.nstring(&env.Lossy)
		case envMessageID:
			env.MessageID = p.nstring(&env.Lossy)
		default:
			p.s.Skip()
		}
		i++
	})
	if s.Err() == nil && i != envFields {
		p.failf("envelope has %d fields, want %d", i, envFields)
	}
	if env.Date != "" {
		env.Time = ParseDate(env.Date)
	}
	return env
}

// addressList reads NIL or "(" 1*address ")". Addresses follow each other
// with or without a space between them.
func (p *parser) addressList(lossy *bool) []Address {
	s := p.s
	if !s.Byte('(') {
		if _, isStr := s.NString(); isStr {
			p.failf("address list is a string")
		}
		return nil
	}
	var list []Address
	group := ""
	for s.Err() == nil {
		s.Byte(' ')
		if s.Byte(')') {
			break
		}
		if c, ok := s.Peek(); !ok || c != '(' {
			p.s.Skip()
			if s.Err() == nil {
				p.failf("address is not a list")
			}
			continue
		}
		a := p.address(lossy)
		switch {
		case a.hostNIL && a.Mailbox == "":
			a.GroupEnd, a.Group = true, group
			group = ""
		case a.hostNIL:
			a.GroupStart = true
			group, a.Group = a.Mailbox, a.Mailbox
		default:
			a.Group = group
		}
		list = append(list, a.Address)
	}
	if list == nil && s.Err() == nil {
		list = []Address{}
	}
	return list
}

// parsedAddress is an Address plus whether its host was NIL.
type parsedAddress struct {
	Address
	hostNIL bool
}

// address reads one "(" name SP adl SP mailbox SP host ")".
func (p *parser) address(lossy *bool) parsedAddress {
	s := p.s
	var a parsedAddress
	i := 0
	s.List(func() {
		switch i {
		case 0:
			b, _ := s.NString()
			var bad bool
			a.Name, bad = decodeHeader(b)
			*lossy = *lossy || bad
		case 1:
			a.Route = p.nstring(lossy)
		case 2:
			a.Mailbox = p.nstring(lossy)
		case 3:
			b, isStr := s.NString()
			a.hostNIL = !isStr
			var bad bool
			a.Host, bad = validUTF8(b)
			*lossy = *lossy || bad
		default:
			p.s.Skip()
		}
		i++
	})
	if s.Err() == nil && i != 4 {
		p.failf("address has %d fields, want 4", i)
	}
	return a
}
