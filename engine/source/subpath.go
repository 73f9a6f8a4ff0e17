package source

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// cleanPath turns Options.Path into a clean slash-separated path inside the
// repository ("." for the root), refusing absolute paths and paths that
// climb out with "..".
func cleanPath(p string) (string, error) {
	if p == "" {
		return ".", nil
	}
	slash := filepath.ToSlash(p)
	if path.IsAbs(slash) || filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q is absolute; give it relative to the repository root", p)
	}
	c := path.Clean(slash)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path %q escapes the repository", p)
	}
	return c, nil
}
