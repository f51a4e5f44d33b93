package bridge

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapbridge/imapbridge/imapengine"
	"github.com/imapbridge/imapbridge/internal/imapservers"
)

// compatDoc is the compatibility matrix, relative to this package.
const compatDoc = "../docs/compatibility.md"

// TestCompatibilityDoc: the generated part of docs/compatibility.md is
// exactly imapservers.Matrix(), so the matrix cannot drift from the table
// that the live suites assert (imapengine TestServers_Capabilities,
// TestDevserverProfile). IMAPBRIDGE_UPDATE_COMPAT=1 rewrites it.
func TestCompatibilityDoc(t *testing.T) {
	doc, err := os.ReadFile(compatDoc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	i, j := strings.Index(text, imapservers.MatrixBegin), strings.Index(text, imapservers.MatrixEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: generated markers missing", compatDoc)
	}
	end := j + len(imapservers.MatrixEnd) + 1
	if end > len(text) {
		end = len(text)
	}
	want := imapservers.Matrix()
	if text[i:end] != want {
		if os.Getenv("IMAPBRIDGE_UPDATE_COMPAT") == "1" {
			if err := os.WriteFile(filepath.Clean(compatDoc), []byte(text[:i]+want+text[end:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s is stale: run IMAPBRIDGE_UPDATE_COMPAT=1 go test ./bridge -run TestCompatibilityDoc", compatDoc)
	}
	for _, bad := range []string{"untested", "unknown", "TODO"} {
		if strings.Contains(strings.ToLower(text), strings.ToLower(bad)) {
			t.Errorf("%s says %q", compatDoc, bad)
		}
	}
}

// TestDevserverProfile: the embedded server's column of the matrix is what a
// running devserver offers.
func TestDevserverProfile(t *testing.T) {
	t.Parallel()
	ds, _ := devUpstream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := imapengine.Dial(ctx, ds.Addr(), &imapengine.Options{AllowPlaintextAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown()
	user, pw := ds.User()
	if _, err := c.Login(ctx, user, pw); err != nil {
		t.Fatal(err)
	}
	p := imapservers.Embedded
	for _, capa := range p.Has {
		if !c.HasCapability(capa) {
			t.Errorf("devserver lacks %s (%q)", capa, c.Capabilities())
		}
	}
	for _, capa := range p.Lacks {
		if c.HasCapability(capa) {
			t.Errorf("devserver offers %s, the profile says it lacks it", capa)
		}
	}
}
