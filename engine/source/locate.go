package source

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

type repoKind int

const (
	// localRepo has a work tree; dir is its root.
	localRepo repoKind = iota
	// bareRepo is a bare repository on this machine, read in place.
	bareRepo
	// remoteRepo is reached through a URL and read from a cached clone.
	remoteRepo
)

// location is where Options.Repo points.
type location struct {
	kind repoKind
	// dir is the work tree root (localRepo) or the repository (bareRepo).
	dir string
	// url is the address to fetch from, credentials included (remoteRepo).
	url string
	// display names the repository in Revision.Repo and errors: a path, or
	// the URL without credentials.
	display string
}

// scpLike matches git's short ssh form, user@host:path.
var scpLike = regexp.MustCompile(`^[A-Za-z0-9._~-]+@[A-Za-z0-9.-]+:`)

// locate classifies repo as a remote URL, a bare repository or a directory
// inside a work tree.
func locate(repo string) (location, error) {
	if repo == "" {
		repo = "."
	}
	if strings.Contains(repo, "://") || scpLike.MatchString(repo) {
		display, err := redact(repo)
		if err != nil {
			return location{}, err
		}
		return location{kind: remoteRepo, url: repo, display: display}, nil
	}
	abs, err := filepath.Abs(repo)
	if err != nil {
		return location{}, fmt.Errorf("open %s: %w", repo, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return location{}, fmt.Errorf("open repository: %w", err)
	}
	for dir := abs; ; dir = filepath.Dir(dir) {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return location{kind: localRepo, dir: dir, display: dir}, nil
		}
		if isBare(dir) {
			return location{kind: bareRepo, dir: dir, display: dir}, nil
		}
		if filepath.Dir(dir) == dir {
			return location{}, fmt.Errorf("open %s: not a git repository (nor any of its parents)", abs)
		}
	}
}

// isBare reports whether dir looks like a git directory, as git itself
// decides: a HEAD file beside objects and refs directories.
func isBare(dir string) bool {
	for name, wantDir := range map[string]bool{"HEAD": false, "objects": true, "refs": true} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.IsDir() != wantDir {
			return false
		}
	}
	return true
}

// redact removes credentials from a URL so it can be shown and used as a
// cache key: the whole user part of http(s) URLs (tokens travel there),
// the password of any other.
func redact(raw string) (string, error) {
	if !strings.Contains(raw, "://") {
		return raw, nil // user@host:path carries no secret
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Not the url.Error itself: it would print the credentials.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return "", fmt.Errorf("parse repository URL: %w", err)
	}
	switch {
	case u.User == nil:
	case u.Scheme == "http" || u.Scheme == "https":
		u.User = nil
	default:
		u.User = url.User(u.User.Username())
	}
	return u.String(), nil
}
