package onnx

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile serializes m to path durably: the bytes go to a temporary file
// in the same directory, which is synced and renamed over path, and the
// directory is synced, so a crash leaves either the old file or the new.
func (m *Model) WriteFile(path string) error {
	data, err := m.Marshal()
	if err != nil {
		return within("write model "+path, err)
	}
	if err := writeDurably(path, data); err != nil {
		return fmt.Errorf("write model %s: %w", path, err)
	}
	return nil
}

func writeDurably(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	// CreateTemp makes the file private; a model is read by whoever serves it.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
