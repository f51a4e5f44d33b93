// Package bundle builds the demo web app (web/demo) into the files the
// bridge embeds (cmd/bridge/demo) with esbuild's Go API: TypeScript bundled
// and minified into one IIFE script per page, CSS minified, HTML copied with
// its indentation stripped. The output is deterministic (no timestamps, no
// paths), so committed files can be compared byte for byte with a rebuild.
package bundle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// SourceDir is the demo's source directory, relative to the module root.
const SourceDir = "web/demo/src"

// OutputDir is where the built files live, relative to the module root.
const OutputDir = "cmd/bridge/demo"

// Outputs are the names of the built files, in a fixed order.
var Outputs = []string{"index.html", "app.js", "widget.html", "widget.js", "shared-worker.js", "style.css", "unread.html", "unread.js"}

// entryPoints are the sources esbuild bundles; each yields the output of the same base name.
var entryPoints = []string{"app.ts", "widget.ts", "shared-worker.ts", "style.css", "unread.ts"}

// pages are copied from SourceDir with their indentation and blank lines removed.
var pages = []string{"index.html", "widget.html", "unread.html"}

// ErrNoModuleRoot reports that no go.mod was found above a directory.
var ErrNoModuleRoot = errors.New("bundle: no go.mod found in the directory or its parents")

// BuildError carries esbuild's error messages.
type BuildError struct {
	// Messages are esbuild's messages, each with its file and line when known.
	Messages []string
}

// Error implements error.
func (e *BuildError) Error() string {
	return "bundle: esbuild failed:\n" + strings.Join(e.Messages, "\n")
}

// ModuleRoot returns the nearest directory at or above dir that holds go.mod.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("bundle: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoModuleRoot
		}
		dir = parent
	}
}

// Build bundles the demo found under root (the module root) and returns
// the built files by name (see Outputs). It writes nothing.
func Build(root string) (map[string][]byte, error) {
	src := filepath.Join(root, filepath.FromSlash(SourceDir))
	entries := make([]string, len(entryPoints))
	for i, e := range entryPoints {
		entries[i] = filepath.Join(src, e)
	}
	res := api.Build(api.BuildOptions{
		EntryPoints:       entries,
		Bundle:            true,
		Write:             false,
		Outdir:            filepath.Join(root, filepath.FromSlash(OutputDir)),
		Format:            api.FormatIIFE,
		Platform:          api.PlatformBrowser,
		Target:            api.ES2020,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetUTF8,
		Sourcemap:         api.SourceMapNone,
		LogLevel:          api.LogLevelSilent,
		Tsconfig:          filepath.Join(root, "web", "demo", "tsconfig.json"),
	})
	if len(res.Errors) > 0 {
		msgs := make([]string, 0, len(res.Errors))
		for _, m := range res.Errors {
			loc := ""
			if m.Location != nil {
				loc = fmt.Sprintf("%s:%d:%d: ", m.Location.File, m.Location.Line, m.Location.Column)
			}
			msgs = append(msgs, loc+m.Text)
		}
		return nil, &BuildError{Messages: msgs}
	}
	out := make(map[string][]byte, len(Outputs))
	for _, f := range res.OutputFiles {
		out[filepath.Base(f.Path)] = f.Contents
	}
	for _, p := range pages {
		b, err := os.ReadFile(filepath.Join(src, p))
		if err != nil {
			return nil, fmt.Errorf("bundle: %w", err)
		}
		out[p] = compactHTML(b)
	}
	for name := range out {
		if !slices.Contains(Outputs, name) {
			return nil, fmt.Errorf("bundle: unexpected output %q", name)
		}
	}
	for _, name := range Outputs {
		if _, ok := out[name]; !ok {
			return nil, fmt.Errorf("bundle: missing output %q", name)
		}
	}
	return out, nil
}

// compactHTML strips each line's surrounding white space and drops blank
// lines. The pages hold no <pre> or <textarea>, where this would matter.
func compactHTML(b []byte) []byte {
	var sb strings.Builder
	for line := range strings.SplitSeq(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		sb.WriteString(line)
		sb.WriteByte('\n')
	}
	return []byte(sb.String())
}
