// Command demobuild builds the demo web app (web/demo/src) into
// cmd/bridge/demo, the directory the bridge embeds. Run it from anywhere in
// the module, usually as `go generate ./cmd/bridge`:
//
//	go run ./cmd/bridge/demobuild
//
// It removes files of the output directory that the build no longer makes.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/imapbridge/imapbridge/cmd/bridge/demobuild/bundle"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demobuild:", err)
		os.Exit(1)
	}
}

func run() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := bundle.ModuleRoot(wd)
	if err != nil {
		return err
	}
	files, err := bundle.Build(root)
	if err != nil {
		return err
	}
	dir := filepath.Join(root, filepath.FromSlash(bundle.OutputDir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range old {
		if !e.IsDir() && !slices.Contains(bundle.Outputs, e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for _, name := range bundle.Outputs {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return err
		}
		fmt.Printf("demobuild: %s/%s (%d bytes)\n", bundle.OutputDir, name, len(files[name]))
	}
	return nil
}
