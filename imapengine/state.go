package imapengine

import "strings"

// State is the connection state of imaplib's state machine.
type State string

// The states. IDLING is transient while an IDLE is active.
const (
	StateLogout   State = "LOGOUT"
	StateNonAuth  State = "NONAUTH"
	StateAuth     State = "AUTH"
	StateSelected State = "SELECTED"
	StateIdling   State = "IDLING"
)

var (
	allStates  = []State{StateNonAuth, StateAuth, StateSelected, StateLogout}
	nonAuth    = []State{StateNonAuth}
	authOnly   = []State{StateAuth}
	authOrSel  = []State{StateAuth, StateSelected}
	selectedOK = []State{StateSelected}
)

// commandStates is imaplib's Commands table: the states each command may be sent
// in. Unlike imaplib it is not global: xatom registrations are per client.
var commandStates = map[string][]State{
	"APPEND":        authOrSel,
	"AUTHENTICATE":  nonAuth,
	"CAPABILITY":    allStates,
	"CHECK":         selectedOK,
	"CLOSE":         selectedOK,
	"COPY":          selectedOK,
	"CREATE":        authOrSel,
	"DELETE":        authOrSel,
	"DELETEACL":     authOrSel,
	"ENABLE":        authOnly,
	"EXAMINE":       authOrSel,
	"EXPUNGE":       selectedOK,
	"FETCH":         selectedOK,
	"GETACL":        authOrSel,
	"GETANNOTATION": authOrSel,
	"GETMETADATA":   authOrSel,
	"GETQUOTA":      authOrSel,
	"GETQUOTAROOT":  authOrSel,
	"ID":            allStates,
	"IDLE":          authOrSel,
	"MYRIGHTS":      authOrSel,
	"LIST":          authOrSel,
	"LOGIN":         nonAuth,
	"LOGOUT":        allStates,
	"LSUB":          authOrSel,
	"MOVE":          selectedOK,
	"NAMESPACE":     authOrSel,
	"NOOP":          allStates,
	"PARTIAL":       selectedOK,
	"PROXYAUTH":     authOnly,
	"RENAME":        authOrSel,
	"SEARCH":        selectedOK,
	"SELECT":        authOrSel,
	"SETACL":        authOrSel,
	"SETANNOTATION": authOrSel,
	"SETMETADATA":   authOrSel,
	"SETQUOTA":      authOrSel,
	"SORT":          selectedOK,
	"STARTTLS":      nonAuth,
	"STATUS":        authOrSel,
	"STORE":         selectedOK,
	"SUBSCRIBE":     authOrSel,
	"THREAD":        selectedOK,
	"UID":           selectedOK,
	"UNSELECT":      selectedOK,
	"UNSUBSCRIBE":   authOrSel,
}

// Commands returns the names of the commands in imaplib's Commands table, with
// the states each is allowed in.
func Commands() map[string][]State {
	m := make(map[string][]State, len(commandStates))
	for k, v := range commandStates {
		m[k] = append([]State(nil), v...)
	}
	return m
}

func statesString(s []State) string {
	parts := make([]string, len(s))
	for i, st := range s {
		parts[i] = string(st)
	}
	return strings.Join(parts, ", ")
}
