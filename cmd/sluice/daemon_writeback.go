package main

import (
	"context"
	"errors"
	"strings"

	"sluice/engine"
	"sluice/engine/daemon"
	"sluice/engine/source"
	"sluice/runtime/store"
)

var _ engine.WriteBack = (*source.WriteBack)(nil)

// newWriteBack is `sluice daemon --write-back BRANCH`: drift rollbacks and
// retrains' promotions are proposed as commits on branch, made against the
// revision the state (cfg.DB, opened later) has in force. An empty branch
// gives nil.
func newWriteBack(branch, repo, specPath string, cfg *daemon.Config) (engine.WriteBack, error) {
	if branch == "" {
		return nil, nil
	}
	w := &source.WriteBack{Repo: repo, Path: specPath, Branch: branch, FetchTimeout: cfg.FetchTimeout,
		Base: func(ctx context.Context) (string, error) {
			rev, err := store.CurrentRevision(ctx, cfg.DB)
			if err != nil {
				return "", err
			}
			if rev == nil {
				return "", errors.New("no revision applied yet")
			}
			return strings.TrimSuffix(rev.Commit, "+worktree"), nil
		}}
	if err := w.Check(); err != nil {
		return nil, errors.New("--write-back: " + err.Error())
	}
	return w, nil
}
