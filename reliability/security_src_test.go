package reliability

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// parseTree parses every non-test Go file under the repository's dirs.
func parseTree(t *testing.T, dirs ...string) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join("..", dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				return err
			}
			files[p] = f
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return fset, files
}

// TestEveryServerSetsReadWriteAndIdleTimeouts finds every http.Server and
// fasthttp.Server (the data plane's HTTP/1.1) that cmd, engine and runtime
// construct and checks that each sets a read timeout (ReadTimeout, or for
// net/http ReadHeaderTimeout), WriteTimeout and IdleTimeout, so that a
// slow client cannot hold a connection.
func TestEveryServerSetsReadWriteAndIdleTimeouts(t *testing.T) {
	t.Parallel()
	fset, files := parseTree(t, "cmd", "engine", "runtime")
	found := 0
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := lit.Type.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Server" {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || (x.Name != "http" && x.Name != "fasthttp") {
				return true
			}
			pkg := sel.X.(*ast.Ident).Name
			found++
			set := map[string]bool{}
			for _, e := range lit.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if k, ok := kv.Key.(*ast.Ident); ok {
						set[k.Name] = true
					}
				}
			}
			var missing []string
			if !set["ReadTimeout"] && (pkg == "fasthttp" || !set["ReadHeaderTimeout"]) {
				missing = append(missing, "ReadTimeout or ReadHeaderTimeout")
			}
			for _, k := range []string{"WriteTimeout", "IdleTimeout"} {
				if !set[k] {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				t.Errorf("%s: %s.Server without %s", fset.Position(lit.Pos()), pkg, strings.Join(missing, ", "))
			}
			return true
		})
	}
	if found < 2 {
		t.Fatalf("found %d http.Server and fasthttp.Server literals; the data plane and the operator API make one each", found)
	}
}

// TestSecretsAreComparedInConstantTime checks the daemon's code: no ==
// or != compares a token or secret with anything but the empty string,
// and the comparisons it does make go through crypto/subtle or hmac.Equal.
func TestSecretsAreComparedInConstantTime(t *testing.T) {
	t.Parallel()
	fset, files := parseTree(t, "engine/daemon")
	secretish := func(e ast.Expr) bool {
		name := ""
		switch e := e.(type) {
		case *ast.Ident:
			name = e.Name
		case *ast.SelectorExpr:
			name = e.Sel.Name
		case *ast.CallExpr:
			if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Get" && len(e.Args) == 1 {
				if lit, ok := e.Args[0].(*ast.BasicLit); ok {
					name = lit.Value // a header holding a credential
				}
			}
		}
		l := strings.ToLower(name)
		return strings.Contains(l, "token") || strings.Contains(l, "secret") || strings.Contains(l, "authorization") ||
			strings.Contains(l, "signature") || l == "given" || l == "sig" || l == "tok"
	}
	empty := func(e ast.Expr) bool {
		lit, ok := e.(*ast.BasicLit)
		return ok && (lit.Value == `""` || lit.Value == "``")
	}
	constantTime := 0
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if (n.Op == token.EQL || n.Op == token.NEQ) && (secretish(n.X) || secretish(n.Y)) && !empty(n.X) && !empty(n.Y) {
					t.Errorf("%s: a credential compared with %s, which takes time that depends on the bytes", fset.Position(n.Pos()), n.Op)
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && (x.Name == "subtle" && n.Sel.Name == "ConstantTimeCompare" || x.Name == "hmac" && n.Sel.Name == "Equal") {
					constantTime++
				}
			}
			return true
		})
	}
	if constantTime < 2 {
		t.Errorf("the daemon makes %d constant-time comparisons; the bearer token and the webhook secret need one each", constantTime)
	}
}
