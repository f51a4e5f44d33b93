package auth_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imapbridge/imapbridge/auth"
)

// embeddingBlock returns the one fenced block of docs/embedding.md in lang.
func embeddingBlock(t *testing.T, lang string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "embedding.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```"+lang+"\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(m) != 1 {
		t.Fatalf("docs/embedding.md has %d ```%s blocks, want 1", len(m), lang)
	}
	return m[0][1]
}

// TestEmbeddingMintExamples runs the guide's Go and Node minting examples
// and verifies their tokens as the bridge would (the guide's bridge.json).
func TestEmbeddingMintExamples(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef-embedding-test"
	secretFile := filepath.Join(t.TempDir(), "hmac.secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: "https://app.example", Audience: "imapbridge",
		Type: auth.DefaultTokenType, HMACSecret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	// The Go example is compiled inside the module (for golang-jwt), in a directory of its own.
	dir, err := os.MkdirTemp("..", ".embedding-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(embeddingBlock(t, "go")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mint.mjs"), []byte(embeddingBlock(t, "js")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mint.py"), []byte(embeddingBlock(t, "python")), 0o644); err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("the Node example needs node (Node.js 20+, as ci/web.sh does): %v", err)
	}
	python := pythonWithJWT(t)
	for _, tc := range []struct {
		name string
		cmd  *exec.Cmd
	}{
		{"go", exec.Command("go", "run", "./"+filepath.Base(dir), "alice@example.com")},
		{"node", exec.Command(node, filepath.Join(filepath.Base(dir), "mint.mjs"), "alice@example.com")},
		{"python", exec.Command(python, filepath.Join(filepath.Base(dir), "mint.py"), "alice@example.com")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cmd.Dir = ".."
			tc.cmd.Env = append(os.Environ(), "BRIDGE_SECRET_FILE="+secretFile)
			out, err := tc.cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %v\n%s", tc.cmd.Args, err, out)
			}
			c, err := v.Verify(strings.TrimSpace(string(out)))
			if err != nil {
				t.Fatalf("the %s example's token is refused: %v", tc.name, err)
			}
			if c.Subject != "alice@example.com" || c.IMAPUser != "alice@example.com" || c.Upstream != "mail" ||
				c.Credential != auth.CredentialMaster || !c.Scopes.ReadOnly {
				t.Errorf("claims %v", c)
			}
		})
	}
}

// pythonWithJWT returns a Python 3 that imports PyJWT: $IMAPBRIDGE_PYTHON,
// python3 on PATH, or Debian's /usr/bin/python3 (python3-jwt, which ci/test.sh
// installs when missing).
func pythonWithJWT(t *testing.T) string {
	t.Helper()
	cands := []string{os.Getenv("IMAPBRIDGE_PYTHON"), "python3", "/usr/bin/python3"}
	for _, c := range cands {
		if c == "" {
			continue
		}
		p, err := exec.LookPath(c)
		if err == nil && exec.Command(p, "-c", "import jwt").Run() == nil {
			return p
		}
	}
	t.Fatalf("the Python example needs PyJWT: apt-get install python3-jwt (or pip install pyjwt; IMAPBRIDGE_PYTHON names the interpreter)")
	return ""
}
