package main

import (
	"os"
	"testing"
)

// needORT skips t when no ONNX Runtime library is found, except under
// CI=true, where a missing library is a failure: CI must prove serving.
func needORT(t *testing.T) {
	t.Helper()
	if _, err := findORTLib(""); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("onnx runtime is required under CI: %v", err)
		}
		t.Skipf("onnx runtime unavailable: %v", err)
	}
}
