package registry

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"sluice/runtime/store"
)

// Facts are what training knew, at registration, about where a version's
// data came from. The registry stores them as given and checks only that
// the chain is closed: every feature view reads a listed source.
type Facts struct {
	// Experiment is the experiment that trained the version; SpecHash is
	// the hash of its spec, which with the dataset fingerprint keys the run.
	Experiment string `json:"experiment"`
	SpecHash   string `json:"spec_hash,omitempty"`
	// Label is the source the labels were read from.
	Label        string       `json:"label_source,omitempty"`
	FeatureViews []ViewFact   `json:"feature_views"`
	Sources      []SourceFact `json:"sources"`
}

// ViewFact is a feature view a version was trained on.
type ViewFact struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	// Fields are the view's fields the experiment used.
	Fields []string `json:"fields,omitempty"`
}

// SourceFact is a source file as it was when the dataset was built.
type SourceFact struct {
	Name        string `json:"name"`
	Path        string `json:"path,omitempty"`
	Fingerprint string `json:"fingerprint"`
}

// validate reports a view or label that reads a source the facts do not
// list, and a source without a fingerprint.
func (f *Facts) validate() error {
	known := map[string]bool{}
	for i, s := range f.Sources {
		switch {
		case s.Name == "":
			return fmt.Errorf("lineage: sources[%d] has no name", i)
		case s.Fingerprint == "":
			return fmt.Errorf("lineage: source %s has no fingerprint", s.Name)
		}
		known[s.Name] = true
	}
	for i, v := range f.FeatureViews {
		switch {
		case v.Name == "":
			return fmt.Errorf("lineage: feature_views[%d] has no name", i)
		case !known[v.Source]:
			return fmt.Errorf("lineage: feature view %s reads source %q, which is not among the sources", v.Name, v.Source)
		}
	}
	if f.Label != "" && !known[f.Label] {
		return fmt.Errorf("lineage: label source %q is not among the sources", f.Label)
	}
	return nil
}

// Lineage is the chain from a version back to the commit that produced it:
// version → run → dataset fingerprint → feature views → source
// fingerprints → commit.
type Lineage struct {
	Model              string
	Version            int
	RunID              string
	Experiment         string
	SpecHash           string
	DatasetFingerprint string
	Label              string
	FeatureViews       []ViewFact
	Sources            []SourceFact
	Commit             string
	ArtifactPath       string
	ArtifactSHA256     string
	RegisteredAt       time.Time
}

// Lineage returns version n of model's lineage as recorded at registration.
func (r *Registry) Lineage(ctx context.Context, q store.Querier, model string, n int) (*Lineage, error) {
	v, err := r.Version(ctx, q, model, n)
	if err != nil {
		return nil, fmt.Errorf("lineage: %w", err)
	}
	return &Lineage{
		Model: v.Model, Version: v.Number, RunID: v.RunID,
		Experiment: v.Lineage.Experiment, SpecHash: v.Lineage.SpecHash,
		DatasetFingerprint: v.DatasetFingerprint, Label: v.Lineage.Label,
		FeatureViews: v.Lineage.FeatureViews, Sources: v.Lineage.Sources,
		Commit: v.Commit, ArtifactPath: v.ArtifactPath, ArtifactSHA256: v.ArtifactSHA256,
		RegisteredAt: v.CreatedAt,
	}, nil
}

// WriteTo prints the chain, one link a line.
func (l *Lineage) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s v%d\n", l.Model, l.Version)
	fmt.Fprintf(&b, "  artifact  %s (sha256 %s)\n", l.ArtifactPath, abbrev(l.ArtifactSHA256, 12))
	fmt.Fprintf(&b, "  run       %s (experiment %s)\n", l.RunID, orDash(l.Experiment))
	fmt.Fprintf(&b, "  dataset   %s\n", l.DatasetFingerprint)
	for _, fv := range l.FeatureViews {
		fmt.Fprintf(&b, "  feature   %s ← source %s", fv.Name, fv.Source)
		if len(fv.Fields) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(fv.Fields, ", "))
		}
		b.WriteString("\n")
	}
	if l.Label != "" {
		fmt.Fprintf(&b, "  label     ← source %s\n", l.Label)
	}
	for _, s := range l.Sources {
		fmt.Fprintf(&b, "  source    %s %s", s.Name, s.Fingerprint)
		if s.Path != "" {
			fmt.Fprintf(&b, " (%s)", s.Path)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  commit    %s\n", orDash(l.Commit))
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// String is what WriteTo prints.
func (l *Lineage) String() string {
	var b strings.Builder
	l.WriteTo(&b)
	return b.String()
}

func abbrev(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
