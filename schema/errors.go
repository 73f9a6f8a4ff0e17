package schema

import (
	"fmt"
	"io"
	"path/filepath"
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
	for _, e := range errors.Errors(err) {
		path := strings.TrimPrefix(strings.Join(e.Path(), "."), "#Repo.")
		pos := token.NoPos
		for _, p := range append([]token.Pos{e.Position()}, e.InputPositions()...) {
			if p.IsValid() && p.Filename() != schemaFile {
				pos = p
				break
			}
		}
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
