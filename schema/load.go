package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/token"
)

// schemaFile is the name the embedded schema's positions carry.
const schemaFile = "sluice-schema.cue"

// MaxSpecBytes bounds the CUE a revision may hold, so a commit cannot make
// the loader exhaust memory.
const MaxSpecBytes = 8 << 20

// LoadOptions says where a revision's specs are.
type LoadOptions struct {
	// FS is the repository at one revision, rooted at the repository root.
	FS fs.FS
	// Dir is the sub-path holding the spec files; "" or "." is the root.
	Dir string
	// DataRoots are absolute directories outside the repository that sources
	// may read from.
	DataRoots []string
	// Display maps a repo-relative file name to what positions print, e.g.
	// an absolute path for a local checkout so that errors read relative to
	// the working directory. Nil leaves names repo-relative.
	Display func(name string) string
}

// Load reads the CUE files of one revision, unifies them with the embedded
// schema and checks cross-references. The error, when not nil, is a
// cue/errors list holding every problem found, each with its position.
func Load(opts LoadOptions) (*Spec, error) {
	dir := path.Clean(strings.TrimPrefix(opts.Dir, "/"))
	if dir == ".." || strings.HasPrefix(dir, "../") {
		return nil, errors.Newf(token.NoPos, "spec path %q escapes the repository", opts.Dir)
	}
	if err := checkSize(opts.FS, dir); err != nil {
		return nil, err
	}
	ctx := cuecontext.New()
	user, err := loadUser(ctx, opts, dir)
	if err != nil {
		return nil, err
	}
	if user.duplicates != nil {
		return nil, user.duplicates
	}
	repo := ctx.CompileString(schemaSource, cue.Filename(schemaFile)).LookupPath(cue.ParsePath("#Repo"))
	if err := repo.Err(); err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	v := repo.Unify(user.value)
	// Report every resource's problems at once: schema errors for the
	// resources that have them, cross-reference errors for the rest.
	var errs errors.Error
	if verrs := validate(v); verrs != nil {
		errs = located(verrs, user.value)
	}
	spec, broken, derr := decode(v)
	if errs == nil && derr != nil {
		errs = derr
	}
	errs = errors.Append(errs, check(spec, user.declared, broken, opts.DataRoots))
	linkModels(spec)
	if errs != nil {
		return nil, errors.Sanitize(errs)
	}
	return spec, nil
}

// linkModels records on each model the experiments that produce it.
func linkModels(s *Spec) {
	for _, x := range sorted(s.Experiments) {
		if m, ok := s.Models[x.Model]; ok {
			if n := len(m.Experiments); n > 0 {
				x.After = m.Experiments[n-1]
			}
			m.Experiments = append(m.Experiments, x.Metadata().Addr.Name)
		}
	}
}

// validate reports every resource's errors: CUE stops at the first error of
// a value, so each resource, and each field of it, is validated on its own,
// for conflicts and fields not allowed and then for missing values.
func validate(v cue.Value) errors.Error {
	var errs errors.Error
	add := func(x cue.Value) {
		if err := x.Validate(); err != nil {
			errs = errors.Append(errs, errors.Promote(err, ""))
		} else if err := x.Validate(cue.Concrete(true)); err != nil {
			errs = errors.Append(errs, errors.Promote(err, ""))
		}
	}
	top, err := v.Fields()
	if err != nil {
		return errors.Promote(err, "")
	}
	for top.Next() {
		kind, err := top.Value().Fields()
		if err != nil {
			add(top.Value())
			continue
		}
		for kind.Next() {
			res, err := kind.Value().Fields()
			if err != nil {
				add(kind.Value())
				continue
			}
			for res.Next() {
				add(res.Value())
			}
		}
	}
	if errs == nil {
		add(v)
	}
	return errs
}

// checkSize refuses a spec directory whose CUE files exceed MaxSpecBytes.
func checkSize(fsys fs.FS, dir string) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return errors.Newf(token.NoPos, "read spec path %q: %v", dir, err)
	}
	var total int64
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".cue") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return errors.Newf(token.NoPos, "stat %s: %v", path.Join(dir, e.Name()), err)
		}
		total += info.Size()
	}
	if total > MaxSpecBytes {
		return errors.Newf(token.NoPos, "spec path %q holds %d bytes of CUE, more than the limit of %d", dir, total, MaxSpecBytes)
	}
	return nil
}

type userSpec struct {
	value      cue.Value
	duplicates errors.Error
	declared   map[Addr]token.Pos
}

// loadUser builds the package in dir as written, before the schema applies.
func loadUser(ctx *cue.Context, opts LoadOptions, dir string) (*userSpec, error) {
	display := opts.Display
	if display == nil {
		display = func(name string) string { return name }
	}
	cfg := &load.Config{
		FS:         opts.FS,
		Dir:        "/" + strings.TrimPrefix(dir, "."),
		Package:    "*",
		FromFSPath: func(p string) string { return display(strings.TrimPrefix(p, "/")) },
	}
	// A directory may hold other files beside the specs (a command
	// trainer's script, say); CUE gives them an instance of their own
	// with no CUE files, which is not a second package.
	var insts []*build.Instance
	for _, inst := range load.Instances([]string{"."}, cfg) {
		if inst.Err != nil || len(inst.BuildFiles) > 0 {
			insts = append(insts, inst)
		}
	}
	if len(insts) == 0 {
		return nil, errors.Newf(token.NoPos, "no CUE files in %q", dir)
	}
	inst := insts[0]
	if inst.Err != nil {
		return nil, inst.Err
	}
	if len(insts) > 1 {
		return nil, errors.Newf(token.NoPos, "spec files in %q declare more than one package (%s and %s); use one", dir, inst.PkgName, insts[1].PkgName)
	}
	v := ctx.BuildInstance(inst)
	if err := v.Err(); err != nil {
		return nil, err
	}
	declared, dups := duplicates(inst.Files)
	return &userSpec{value: v, duplicates: dups, declared: declared}, nil
}

// canonical returns v as JSON with sorted keys and the hex SHA-256 of it.
func canonical(v cue.Value) ([]byte, string, error) {
	raw, err := v.MarshalJSON()
	if err != nil {
		return nil, "", err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, "", err
	}
	out, err := json.Marshal(x)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(out)
	return out, hex.EncodeToString(sum[:]), nil
}

// fieldInfo records, for every field below v, where the user wrote it and
// the class the schema gives it, keyed by its path relative to v
// ("fields.amount.type", "entities[0]").
func fieldInfo(v cue.Value) (map[string]token.Pos, map[string]string) {
	pos := map[string]token.Pos{}
	classes := map[string]string{}
	var walk func(prefix string, v cue.Value)
	walk = func(prefix string, v cue.Value) {
		if prefix != "" {
			if p := userPos(v); p.IsValid() {
				pos[prefix] = p
			}
			if a := v.Attribute("sluice"); a.Err() == nil {
				classes[prefix] = a.Contents()
			}
		}
		switch v.IncompleteKind() {
		case cue.StructKind:
			it, err := v.Fields(cue.Optional(false))
			if err != nil {
				return
			}
			for it.Next() {
				walk(join(prefix, it.Selector().String()), it.Value())
			}
		case cue.ListKind:
			it, err := v.List()
			if err != nil {
				return
			}
			for i := 0; it.Next(); i++ {
				walk(fmt.Sprintf("%s[%d]", prefix, i), it.Value())
			}
		}
	}
	walk("", v)
	return pos, classes
}

// userPos is the position of v in a user's file, skipping the schema's.
// Expr is dear, so it is asked only when the value's own position is the
// schema's.
func userPos(v cue.Value) token.Pos {
	if p := v.Pos(); p.IsValid() && p.Filename() != schemaFile {
		return p
	}
	_, args := v.Expr()
	for _, a := range args {
		if p := a.Pos(); p.IsValid() && p.Filename() != schemaFile {
			return p
		}
	}
	return token.NoPos
}

func join(prefix, sel string) string {
	if prefix == "" {
		return sel
	}
	return prefix + "." + sel
}
