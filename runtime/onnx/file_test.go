package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileWritesTheMarshalledModel(t *testing.T) {
	m, err := RandomMLP(5, 3, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, []byte("an older model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.Marshal()
	if !bytes.Equal(got, want) {
		t.Error("file does not hold the marshalled model")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want -rw-r--r--", fi.Mode().Perm())
	}
	if sig, err := ReadSignature(got); err != nil || len(sig.Inputs) != 1 || sig.Inputs[0].Name != "input" {
		t.Errorf("signature %v, %v", sig, err)
	}
}

func TestWriteFileOfABrokenModelLeavesTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(path, []byte("the serving model"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := &Model{Graph: Graph{Outputs: []ValueInfo{TensorInfo("y", Float)}}}
	err := broken.WriteFile(path)
	if err == nil || !strings.Contains(err.Error(), "write model "+path+": onnx model: graph output \"y\": no node produces it") {
		t.Fatalf("error %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "the serving model" {
		t.Errorf("file now holds %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want the model alone", len(entries))
	}
}
