package features

import (
	"errors"
	"strings"
)

// checkExpr refuses an expression that could end the statement it is
// spliced into: a semicolon or a comment outside literals. An expression is
// one SQL expression over the source's columns, nothing more.
func checkExpr(expr string) error {
	var bad error
	scanExpr(expr, func(tok string, ident bool) {
		switch {
		case bad != nil || ident:
		case tok == ";":
			bad = errors.New("expr may not contain ';'")
		case tok == "--" || tok == "/*":
			bad = errors.New("expr may not contain comments")
		}
	})
	return bad
}

// exprIdents lists the identifiers an expression names: the source columns
// it may read, and SQL words that match none.
func exprIdents(expr string) []string {
	var ids []string
	scanExpr(expr, func(tok string, ident bool) {
		if ident {
			ids = append(ids, tok)
		}
	})
	return ids
}

// scanExpr calls fn for every identifier (bare or quoted, unquoted) and
// every other significant token of an SQLite expression, skipping string
// literals.
func scanExpr(s string, fn func(tok string, ident bool)) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'':
			j := i + 1
			for j < len(s) {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = j + 1
		case c == '"' || c == '`' || c == '[':
			end := byte(c)
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(s[i+1:], end)
			if j < 0 {
				fn(s[i+1:], true)
				return
			}
			fn(s[i+1:i+1+j], true)
			i += j + 2
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9' || s[j] == '$') {
				j++
			}
			fn(s[i:j], true)
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && (s[j] == '.' || s[j] >= '0' && s[j] <= '9' || s[j] == 'e' || s[j] == 'E' || s[j] == 'x' || s[j] >= 'a' && s[j] <= 'f' || s[j] >= 'A' && s[j] <= 'F') {
				j++
			}
			i = j
		case c == '-' && i+1 < len(s) && s[i+1] == '-', c == '/' && i+1 < len(s) && s[i+1] == '*':
			fn(s[i:i+2], false)
			i += 2
		case c == ';':
			fn(";", false)
			i++
		default:
			i++
		}
	}
}
