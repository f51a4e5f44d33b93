package protocol

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine/imap"
)

// TestFindCriteria: a criteria object converts to the engine's criteria
// member by member, and malformed ones are refused with ErrInvalidField.
func TestFindCriteria(t *testing.T) {
	req, err := DecodeRequest([]byte(`{"id":"a","op":"find","where":{"uids":"1:9","from":["a"],"header":[{"name":"X-A","value":""}],
		"since":"2024-03-01","sentOn":"2024-03-02","larger":5,"flags":["\\Seen","$Work"],"notFlags":["\\Deleted"],"modSeq":7,
		"not":[{"to":["b"]}],"or":[[{"cc":["c"]},{"bcc":["d"]}]]},"offset":3,"limit":4}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	fr := req.(*FindRequest)
	c := fr.Where.SearchCriteria()
	if len(c.UIDs) != 1 || c.UIDs[0].String() != "1:9" || c.From[0] != "a" || c.Header[0].Name != "X-A" ||
		!c.Since.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) || c.SentOn.Day() != 2 || c.Larger != 5 ||
		c.Flags[1] != imap.Flag("$Work") || c.NotFlags[0] != imap.FlagDeleted || c.ModSeq != 7 ||
		c.Not[0].To[0] != "b" || c.Or[0][0].Cc[0] != "c" || c.Or[0][1].Bcc[0] != "d" {
		t.Errorf("criteria = %+v", c)
	}
	if lo, hi := fr.Bounds(100); lo != 3 || hi != 7 {
		t.Errorf("bounds = %d, %d", lo, hi)
	}
	if lo, hi := (Page{}).Bounds(10000); lo != 0 || hi != MaxPage {
		t.Errorf("default page = %d, %d", lo, hi)
	}
	deep := strings.Repeat(`{"not":[`, MaxCriteriaDepth) + `{}` + strings.Repeat(`]}`, MaxCriteriaDepth)
	for _, bad := range []string{
		`{"since":"2024-3-1"}`, `{"flags":["a b"]}`, `{"flags":["\\"]}`, `{"or":[[{}]]}`, `{"or":[[{},null]]}`, `{"not":[null]}`,
		`{"subject":["a\u0000"]}`, `{"uids":"0"}`, `{"header":[{"name":"a:b","value":""}]}`,
		`{"text":["` + strings.Repeat("x", MaxCriterionBytes+1) + `"]}`, deep,
	} {
		_, err := DecodeRequest([]byte(`{"id":"a","op":"find","where":`+bad+`}`), 64)
		if !errors.Is(err, ErrInvalidField) {
			t.Errorf("%.60s: err = %v", bad, err)
		}
	}
	for _, bad := range []string{
		`{"id":"a","op":"sort","keys":[]}`, `{"id":"a","op":"sort","keys":[{"key":"bogus"}]}`,
		`{"id":"a","op":"thread","algorithm":"jwz"}`, `{"id":"a","op":"watch","mailboxes":[""]}`,
	} {
		if _, err := DecodeRequest([]byte(bad), 0); !errors.Is(err, ErrInvalidField) {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}
