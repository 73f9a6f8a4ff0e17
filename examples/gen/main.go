// Command gen writes the data files of the example repository
// (examples/repo/data): users' weekly activity snapshots and merchants'
// weekly risk snapshots as CSV, and card transactions with a fraud label as
// Parquet.
//
// The data are synthetic and deterministic: every random draw comes from
// fixed seeds, so rerunning gen rewrites byte-identical files and a source's
// fingerprint only moves when this program changes. From the repository
// root:
//
//	go run ./examples/gen -out examples/repo/data
//
// or go generate ./examples/gen.
package main

//go:generate go run . -out ../repo/data

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "examples/repo/data", "directory to write the data files into")
	flag.Parse()
	if err := run(*out, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// run writes the data files into dir and lists them on log.
func run(dir string, log io.Writer) error {
	files, err := render(generate())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
		fmt.Fprintf(log, "%s: %d rows, %d bytes\n", filepath.Join(dir, f.name), f.rows, len(f.data))
	}
	return nil
}

// writeFile replaces name through a temporary file in the same directory,
// so a reader never sees half a data file; an unchanged file is left alone.
func writeFile(name string, data []byte) error {
	if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".gen-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
