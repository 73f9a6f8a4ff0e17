package schema

import (
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
)

// duplicates reports a resource declared more than once. CUE would unify the
// two declarations into one, silently merging two people's work; Sluice
// wants each resource written in one place.
//
// It also returns every resource declared, so that references to a resource
// with schema errors of its own are not reported as unknown as well.
func duplicates(files []*ast.File) (map[Addr]token.Pos, errors.Error) {
	seen := map[Addr]token.Pos{}
	var errs errors.Error
	for _, f := range files {
		for _, d := range f.Decls {
			kf, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			kind, _, err := ast.LabelName(kf.Label)
			if err != nil || !isKind(kind) {
				continue
			}
			st, ok := kf.Value.(*ast.StructLit)
			if !ok {
				continue
			}
			for _, e := range st.Elts {
				rf, ok := e.(*ast.Field)
				if !ok {
					continue
				}
				name, _, err := ast.LabelName(rf.Label)
				if err != nil {
					continue
				}
				a := Addr{Kind: Kind(kind), Name: name}
				if first, dup := seen[a]; dup {
					errs = errors.Append(errs, errors.Newf(rf.Label.Pos(), "%s: duplicate name: also declared at %s", a, first))
					continue
				}
				seen[a] = rf.Label.Pos()
			}
		}
	}
	return seen, errs
}

func isKind(s string) bool {
	for _, k := range Kinds {
		if string(k) == s {
			return true
		}
	}
	return false
}
