package planjson

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// SavedVersion is the version of the saved-plan file format.
const SavedVersion = 1

// Saved is a plan saved with --out: the plan and what is needed to apply
// exactly it — the repository, revision and state it was made against.
type Saved struct {
	SavedVersion int `json:"sluice_saved_plan"`
	// Repo is the repository as given to plan (a path or URL).
	Repo string `json:"repo"`
	// Rev is what plan was asked for (a branch, tag or commit); apply refuses
	// the plan when it no longer resolves to Plan.Revision.Commit.
	Rev  string `json:"rev"`
	Plan *Plan  `json:"plan"`
}

// WriteSaved writes s to path durably: a temporary file, fsync, rename.
func WriteSaved(path string, s *Saved) error {
	s.SavedVersion = SavedVersion
	data, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".plan-*")
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save plan: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save plan: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return nil
}

// ReadSaved reads a saved plan file.
func ReadSaved(path string) (*Saved, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read saved plan: %w", err)
	}
	var s Saved
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("read saved plan %s: not a sluice plan file: %w", path, err)
	}
	if s.SavedVersion != SavedVersion || s.Plan == nil {
		return nil, fmt.Errorf("read saved plan %s: not a sluice plan file of version %d", path, SavedVersion)
	}
	return &s, nil
}
