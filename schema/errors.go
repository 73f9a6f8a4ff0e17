package schema

import (
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
)

// located rewrites CUE's errors so that each names the user's file, never
// the embedded schema the user cannot see: the position is where the user
// wrote the value, or the nearest enclosing value they wrote (for a missing
// required field), and the message starts with the field's path.
func located(err error, user cue.Value) errors.Error {
	var out errors.Error
	for _, e := range mergeDisjunctions(errors.Errors(err)) {
		path := strings.TrimPrefix(strings.Join(e.Path(), "."), "#Repo.")
		pos := userPosition(e)
		if !pos.IsValid() {
			pos = nearest(user, e.Path())
		}
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		if strings.HasSuffix(msg, "errors in empty disjunction:") {
			continue // the alternatives that failed follow as errors of their own
		}
		if strings.HasPrefix(msg, "incomplete value") {
			msg = "required field is missing or not concrete (" + msg + ")"
		}
		if path != "" && path != "#Repo" {
			msg = path + ": " + msg
		}
		out = errors.Append(out, errors.Newf(pos, "%s", msg))
	}
	return out
}

var (
	conflictRE   = regexp.MustCompile(`^conflicting values (.+?) and (.+)$`)
	mismatchedRE = regexp.MustCompile(` \(mismatched types [^)]*\)$`)
)

// mergeDisjunctions folds the errors CUE gives for a value that matches none
// of a disjunction's alternatives — one "conflicting values" per
// alternative, at one position — into one error listing what is allowed.
func mergeDisjunctions(errs []errors.Error) []errors.Error {
	type key struct {
		pos  token.Pos
		path string
	}
	groups := map[key][][2]string{}
	var order []key
	var out []errors.Error
	for _, e := range errs {
		format, args := e.Msg()
		m := conflictRE.FindStringSubmatch(mismatchedRE.ReplaceAllString(fmt.Sprintf(format, args...), ""))
		if m == nil {
			out = append(out, e)
			continue
		}
		k := key{userPosition(e), strings.Join(e.Path(), ".")}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], [2]string{m[1], m[2]})
	}
	for _, k := range order {
		pairs := groups[k]
		given, others := common(pairs)
		msg := fmt.Sprintf("conflicting values %s and %s", pairs[0][0], pairs[0][1])
		if given != "" && len(pairs) > 1 {
			msg = fmt.Sprintf("%s is not allowed: want %s", given, strings.Join(others, " or "))
		}
		out = append(out, &pathError{pos: k.pos, path: strings.Split(k.path, "."), msg: msg})
	}
	return out
}

// common finds the value every pair shares (what the user wrote) and the
// other side of each pair (the alternatives).
func common(pairs [][2]string) (string, []string) {
	for _, cand := range pairs[0] {
		var others []string
		for _, p := range pairs {
			switch cand {
			case p[0]:
				others = append(others, p[1])
			case p[1]:
				others = append(others, p[0])
			}
		}
		if len(others) == len(pairs) {
			sort.Strings(others)
			return cand, others
		}
	}
	return "", nil
}

// pathError is an error at a position with a CUE path.
type pathError struct {
	pos  token.Pos
	path []string
	msg  string
}

func (e *pathError) Error() string                { return e.msg }
func (e *pathError) Position() token.Pos          { return e.pos }
func (e *pathError) InputPositions() []token.Pos  { return nil }
func (e *pathError) Path() []string               { return e.path }
func (e *pathError) Msg() (string, []interface{}) { return "%s", []any{e.msg} }

// userPosition is the first of an error's positions in a user's file.
func userPosition(e errors.Error) token.Pos {
	for _, p := range append(e.InputPositions(), e.Position()) {
		if p.IsValid() && p.Filename() != schemaFile {
			return p
		}
	}
	return token.NoPos
}

// nearest finds the position of the deepest value along path that the user wrote.
func nearest(user cue.Value, path []string) token.Pos {
	if len(path) > 0 && path[0] == "#Repo" {
		path = path[1:]
	}
	for n := len(path); n > 0; n-- {
		sels := make([]cue.Selector, n)
		for i, p := range path[:n] {
			sels[i] = cue.Str(strings.Trim(p, `"`))
		}
		if v := user.LookupPath(cue.MakePath(sels...)); v.Exists() && v.Pos().IsValid() {
			return v.Pos()
		}
	}
	return token.NoPos
}

// Print writes every error in err as "file:line:col: message", one per line,
// with file names relative to cwd when they are below it: the form editors
// and CI annotations parse.
func Print(w io.Writer, err error, cwd string) {
	for _, e := range errors.Errors(err) {
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		if p := e.Position(); p.IsValid() {
			fmt.Fprintf(w, "%s:%d:%d: %s\n", relative(p.Filename(), cwd), p.Line(), p.Column(), msg)
			continue
		}
		fmt.Fprintf(w, "%s\n", msg)
	}
}

func relative(name, cwd string) string {
	if cwd == "" || !filepath.IsAbs(name) {
		return name
	}
	if rel, err := filepath.Rel(cwd, name); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return name
}
