package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompactHTML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"indent and blanks", "<p>\n\n   <b>x</b>  \r\n\t</p>\n", "<p>\n<b>x</b>\n</p>\n"},
		{"no trailing newline", "<a>", "<a>\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(compactHTML([]byte(tc.in))); got != tc.want {
				t.Errorf("compactHTML(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("root %s has no go.mod: %v", root, err)
	}
	if _, err := ModuleRoot(t.TempDir()); !errors.Is(err, ErrNoModuleRoot) {
		t.Errorf("ModuleRoot(temp dir) error = %v, want ErrNoModuleRoot", err)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"missing sources", map[string]string{}, "bundle: esbuild failed"},
		{"type syntax error", map[string]string{"app.ts": "let x: = 1", "widget.ts": "", "shared-worker.ts": "", "style.css": ""}, "app.ts"},
		{"missing page", map[string]string{"app.ts": "", "widget.ts": "", "shared-worker.ts": "", "style.css": "", "unread.ts": ""}, "bundle: open"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			src := filepath.Join(root, filepath.FromSlash(SourceDir))
			if err := os.MkdirAll(src, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, "..", "tsconfig.json"), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			for name, body := range tc.files {
				if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Build(root)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build error = %v, want one containing %q", err, tc.want)
			}
			var be *BuildError
			if strings.HasPrefix(tc.want, "bundle: esbuild") && !errors.As(err, &be) {
				t.Errorf("error %T is not a *BuildError", err)
			}
		})
	}
}

func TestBuildOutputs(t *testing.T) {
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Build(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Outputs {
		b := files[name]
		if len(b) == 0 {
			t.Errorf("%s is empty", name)
		}
		if strings.Contains(string(b), root) {
			t.Errorf("%s contains the build path %s (output must not depend on the checkout)", name, root)
		}
	}
}
