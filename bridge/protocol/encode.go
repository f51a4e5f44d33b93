package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Encode returns the JSON of a server frame or result, without a trailing
// newline. HTML escaping stays on: "<", ">" and "&" in strings are written
// as \u003c, \u003e and \u0026, which every JSON parser reads back to the
// same characters, so a frame pasted into HTML can never close a tag.
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("protocol: encode: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ErrUnknownFrame reports a server frame whose "type" (or, for an
// event, "event") is missing or unknown.
var ErrUnknownFrame = errors.New("protocol: unknown server frame type")

// DecodeFrame decodes a server frame for a Go client: it returns *Hello,
// *Response, *ImaplibResponse (a response with "typ"), *ErrorFrame or
// *Event. It is lenient about unknown members, as clients must be under
// the versioning policy.
func DecodeFrame(data []byte) (Frame, error) {
	var head struct {
		Type string          `json:"type"`
		Typ  *string         `json:"typ"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("protocol: decode frame: %w", err)
	}
	var f Frame
	switch {
	case head.Type == TypeHello:
		f = &Hello{}
	case head.Type == TypeResponse && head.Typ != nil:
		f = &ImaplibResponse{}
	case head.Type == TypeResponse:
		f = &Response{}
	case head.Type == TypeError:
		f = &ErrorFrame{}
	case head.Type == TypeEvent:
		f = &Event{}
	default:
		return nil, fmt.Errorf("%w: %.32q", ErrUnknownFrame, head.Type)
	}
	if err := json.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("protocol: decode %s frame: %w", head.Type, err)
	}
	return f, nil
}

// retryAfterPrefix starts the close reason of CloseRestart.
const retryAfterPrefix = "retry-after-ms="

// RetryAfterReason returns the close reason of CloseRestart telling the
// client to reconnect after d: "retry-after-ms=N".
func RetryAfterReason(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return retryAfterPrefix + strconv.FormatInt(d.Milliseconds(), 10)
}

// ParseRetryAfter reads the delay of a CloseRestart reason; ok is false
// if reason is not of the form RetryAfterReason writes.
func ParseRetryAfter(reason string) (d time.Duration, ok bool) {
	rest, found := strings.CutPrefix(reason, retryAfterPrefix)
	if !found || rest == "" || len(rest) > 9 {
		return 0, false
	}
	ms, err := strconv.ParseUint(rest, 10, 32)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}
