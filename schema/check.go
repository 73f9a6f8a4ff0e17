package schema

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
)

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// check verifies what the schema alone cannot: names, cross-references
// between resources and paths that must stay inside the repository.
func check(s *Spec, declared map[Addr]token.Pos, broken map[Addr]bool, dataRoots []string) errors.Error {
	c := &checker{spec: s, declared: declared, broken: broken}
	for _, r := range s.Resources() {
		m := r.Metadata()
		if !nameRE.MatchString(m.Addr.Name) {
			c.errf(m, "", "invalid name %q: use lower-case letters, digits, '-' and '_', starting with a letter", m.Addr.Name)
		}
	}
	for _, src := range sorted(s.Sources) {
		c.sourcePath(src, dataRoots)
	}
	for _, fv := range sorted(s.Features) {
		c.ref(&fv.Meta, "source", KindSource, fv.Source)
		for i, e := range fv.Entities {
			c.ref(&fv.Meta, fmt.Sprintf("entities[%d]", i), KindEntity, e)
		}
		if len(fv.Fields) == 0 {
			c.errf(&fv.Meta, "fields", "a feature view needs at least one field")
		}
	}
	for _, ex := range sorted(s.Experiments) {
		c.ref(&ex.Meta, "model", KindModel, ex.Model)
		c.ref(&ex.Meta, "label.source", KindSource, ex.Label.Source)
		for i, e := range ex.Label.Entities {
			c.ref(&ex.Meta, fmt.Sprintf("label.entities[%d]", i), KindEntity, e)
		}
		for i, f := range ex.Features {
			c.featureRef(&ex.Meta, fmt.Sprintf("features[%d]", i), f, ex.Label.Entities)
		}
	}
	for _, ep := range sorted(s.Endpoints) {
		c.ref(&ep.Meta, "model", KindModel, ep.Model)
		if ep.Alias == "" && ep.Version == 0 {
			c.errf(&ep.Meta, "model", "endpoint needs an alias or a version of model %q", ep.Model)
		}
		for i, f := range ep.Features {
			c.featureRef(&ep.Meta, fmt.Sprintf("features[%d]", i), f, nil)
		}
		if len(ep.Features) > 0 && len(ep.EntityKeys) == 0 {
			c.errf(&ep.Meta, "features", "an endpoint that joins features needs entity_keys")
		}
	}
	for _, d := range sorted(s.Drift) {
		c.ref(&d.Meta, "endpoint", KindEndpoint, d.Endpoint)
	}
	return c.errs
}

type checker struct {
	spec     *Spec
	declared map[Addr]token.Pos
	broken   map[Addr]bool
	errs     errors.Error
}

func (c *checker) errf(m *Meta, field, format string, args ...any) {
	if c.broken[m.Addr] {
		return // its schema errors are reported already
	}
	where := m.Addr.String()
	if field != "" {
		where += "." + field
	}
	c.errs = errors.Append(c.errs, errors.Newf(m.Position(field), where+": "+format, args...))
}

// ref reports a reference to a resource that does not exist.
func (c *checker) ref(m *Meta, field string, kind Kind, name string) {
	if _, ok := c.declared[Addr{kind, name}]; ok {
		return
	}
	var names []string
	for a := range c.declared {
		if a.Kind == kind {
			names = append(names, a.Name)
		}
	}
	sort.Strings(names)
	known := "none declared"
	if len(names) > 0 {
		known = "known: " + strings.Join(names, ", ")
	}
	c.errf(m, field, "unknown %s %q (%s)", singular(kind), name, known)
}

// featureRef checks a "view:field" reference and, when entities is not nil,
// that the view's entities are among them.
func (c *checker) featureRef(m *Meta, field, ref string, entities []string) {
	view, name, _ := strings.Cut(ref, ":")
	fv, ok := c.spec.Features[view]
	if !ok || c.broken[Addr{KindFeature, view}] {
		c.ref(m, field, KindFeature, view)
		return
	}
	found := false
	for _, f := range fv.Fields {
		found = found || f.Name == name
	}
	if !found {
		c.errf(m, field, "feature view %q has no field %q", view, name)
	}
	for _, e := range fv.Entities {
		if entities != nil && !contains(entities, e) {
			c.errf(m, field, "feature view %q is keyed by entity %q, which the label does not carry", view, e)
		}
	}
}

// sourcePath keeps a source's file inside the repository or a data root.
func (c *checker) sourcePath(src *Source, dataRoots []string) {
	p := src.Path
	if filepath.IsAbs(p) {
		if !underAny(filepath.Clean(p), dataRoots) {
			c.errf(&src.Meta, "path", "path %q is outside the repository and every data root (add one with --data-root)", p)
			return
		}
		// A symbolic link inside a data root may lead out of it: judge the
		// file it resolves to. A missing file is reported when it is read.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			roots := make([]string, len(dataRoots))
			for i, r := range dataRoots {
				if roots[i], err = filepath.EvalSymlinks(r); err != nil {
					roots[i] = r
				}
			}
			if !underAny(real, roots) {
				c.errf(&src.Meta, "path", "path %q leads outside every data root through a symbolic link (to %s)", p, real)
			}
		}
		return
	}
	if clean := path.Clean(p); clean == ".." || strings.HasPrefix(clean, "../") {
		c.errf(&src.Meta, "path", "path %q escapes the repository", p)
	}
}

// underAny reports whether the clean absolute path p is one of roots or
// inside one.
func underAny(p string, roots []string) bool {
	for _, root := range roots {
		if rel, err := filepath.Rel(root, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

func singular(k Kind) string {
	switch k {
	case KindSource:
		return "source"
	case KindEntity:
		return "entity"
	case KindFeature:
		return "feature view"
	case KindExperiment:
		return "experiment"
	case KindModel:
		return "model"
	case KindEndpoint:
		return "endpoint"
	}
	return "drift policy"
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func sorted[T any](m map[string]T) []T {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]T, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}
