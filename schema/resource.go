package schema

import (
	"sort"
	"strings"
)

// Resource is any of the seven kinds.
type Resource interface {
	Metadata() *Meta
	// DependsOn lists the resources this one reads, which apply handles first.
	DependsOn() []Addr
}

// Metadata returns the resource's common part.
func (m *Meta) Metadata() *Meta { return m }

// DependsOn implements Resource.
func (s *Source) DependsOn() []Addr { return nil }

// DependsOn implements Resource.
func (e *Entity) DependsOn() []Addr { return nil }

// DependsOn implements Resource.
func (f *FeatureView) DependsOn() []Addr {
	deps := []Addr{{KindSource, f.Source}}
	for _, e := range f.Entities {
		deps = append(deps, Addr{KindEntity, e})
	}
	return deps
}

// DependsOn implements Resource.
func (x *Experiment) DependsOn() []Addr {
	deps := []Addr{{KindSource, x.Label.Source}}
	if x.After != "" {
		deps = append(deps, Addr{KindExperiment, x.After})
	}
	for _, e := range x.Label.Entities {
		deps = append(deps, Addr{KindEntity, e})
	}
	return append(deps, viewDeps(x.Features)...)
}

// DependsOn implements Resource. A model's aliases point at versions that
// its experiments register, so promotion waits for training.
func (m *Model) DependsOn() []Addr {
	deps := make([]Addr, len(m.Experiments))
	for i, e := range m.Experiments {
		deps[i] = Addr{KindExperiment, e}
	}
	return deps
}

// DependsOn implements Resource.
func (e *Endpoint) DependsOn() []Addr {
	return append([]Addr{{KindModel, e.Model}}, viewDeps(e.Features)...)
}

// DependsOn implements Resource.
func (d *Drift) DependsOn() []Addr { return []Addr{{KindEndpoint, d.Endpoint}} }

func viewDeps(refs []string) []Addr {
	seen := map[string]bool{}
	var deps []Addr
	for _, r := range refs {
		v, _, _ := strings.Cut(r, ":")
		if !seen[v] {
			seen[v] = true
			deps = append(deps, Addr{KindFeature, v})
		}
	}
	return deps
}

// Resources returns every resource, in kind order then by name.
func (s *Spec) Resources() []Resource {
	var out []Resource
	for _, r := range sorted(s.Sources) {
		out = append(out, r)
	}
	for _, r := range sorted(s.Entities) {
		out = append(out, r)
	}
	for _, r := range sorted(s.Features) {
		out = append(out, r)
	}
	for _, r := range sorted(s.Experiments) {
		out = append(out, r)
	}
	for _, r := range sorted(s.Models) {
		out = append(out, r)
	}
	for _, r := range sorted(s.Endpoints) {
		out = append(out, r)
	}
	for _, r := range sorted(s.Drift) {
		out = append(out, r)
	}
	return out
}

// Lookup finds a resource by address.
func (s *Spec) Lookup(a Addr) (Resource, bool) {
	var r Resource
	var ok bool
	switch a.Kind {
	case KindSource:
		r, ok = lookup(s.Sources, a.Name)
	case KindEntity:
		r, ok = lookup(s.Entities, a.Name)
	case KindFeature:
		r, ok = lookup(s.Features, a.Name)
	case KindExperiment:
		r, ok = lookup(s.Experiments, a.Name)
	case KindModel:
		r, ok = lookup(s.Models, a.Name)
	case KindEndpoint:
		r, ok = lookup(s.Endpoints, a.Name)
	case KindDrift:
		r, ok = lookup(s.Drift, a.Name)
	}
	return r, ok
}

func lookup[T Resource](m map[string]T, name string) (Resource, bool) {
	r, ok := m[name]
	if !ok {
		return nil, false
	}
	return r, true
}

// names lists the names declared for kind, sorted.
func (s *Spec) names(kind Kind) []string {
	var out []string
	for _, r := range s.Resources() {
		if m := r.Metadata(); m.Addr.Kind == kind {
			out = append(out, m.Addr.Name)
		}
	}
	sort.Strings(out)
	return out
}
