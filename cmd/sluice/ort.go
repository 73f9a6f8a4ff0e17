package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	ort "github.com/yalue/onnxruntime_go"
)

// ortLibName is the file the Makefile's `ort` target caches.
const ortLibName = "libonnxruntime.so.1"

// findORT locates the ONNX Runtime library: --ort-lib, then SLUICE_ORT_LIB,
// then the newest copy in the cache the Makefile fills
// ($SLUICE_CACHE or ~/.cache/sluice/onnxruntime-node-*/).
func (a *app) findORT() (string, error) { return findORTLib(a.ortLib) }

// findORTLib is findORT with the --ort-lib value given.
func findORTLib(flag string) (string, error) {
	for _, p := range []string{flag, os.Getenv("SLUICE_ORT_LIB")} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("onnx runtime library: %w", err)
		}
		return p, nil
	}
	cache := os.Getenv("SLUICE_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("onnx runtime library: %w", err)
		}
		cache = filepath.Join(home, ".cache", "sluice")
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "onnxruntime-node-*", ortLibName))
	if len(matches) == 0 {
		return "", fmt.Errorf("onnx runtime library not found: pass --ort-lib, set SLUICE_ORT_LIB, or run `make ort` to fetch it into %s", cache)
	}
	sort.Strings(matches)
	return matches[len(matches)-1], nil
}

// startORT initialises ONNX Runtime for this process, once: training
// evaluates every model in it. flag is --ort-lib, or empty.
func startORT(flag string) error {
	if ort.IsInitialized() {
		return nil
	}
	path, err := findORTLib(flag)
	if err != nil {
		return err
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("load onnx runtime library %s: %w", path, err)
	}
	return nil
}

// ortVersion loads the library and asks its version, proving it loads.
func (a *app) ortVersion() (path, version string, err error) {
	path, err = a.findORT()
	if err != nil {
		return "", "", err
	}
	ort.SetSharedLibraryPath(path)
	if !ort.IsInitialized() {
		if err := ort.InitializeEnvironment(); err != nil {
			return path, "", fmt.Errorf("load onnx runtime library %s: %w", path, err)
		}
	}
	return path, ort.GetVersion(), nil
}

func versionString() string {
	return "dev"
}
