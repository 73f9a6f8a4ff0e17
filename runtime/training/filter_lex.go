package training

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind is the kind of a filter token.
type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokWord             // metrics.f1, and, LIKE, a bare key after a dot
	tokString           // 'text' or "text"
	tokQuoted           // `text`, a quoted name
	tokNumber           // 0.85, -1, 1e-3
	tokOp               // = != <> < <= > >=
	tokLParen
	tokRParen
	tokComma
	tokOther // any other character, for the parser to name
)

// token is one lexeme of a filter: its text as written, its value
// (unquoted for strings), and its 1-based column in characters.
type token struct {
	kind  tokenKind
	text  string
	value string
	col   int
}

// describe names the token as an error message shows it.
func (t token) describe() string {
	if t.kind == tokEOF {
		return "the end of the filter"
	}
	return fmt.Sprintf("%q", t.text)
}

// filterError is a mistake in a filter at a column.
type filterError struct {
	col int
	msg string
}

func (e *filterError) Error() string { return fmt.Sprintf("column %d: %s", e.col, e.msg) }

func errAt(col int, format string, a ...any) error {
	return &filterError{col: col, msg: fmt.Sprintf(format, a...)}
}

// lex splits a filter into tokens.
func lex(src string) ([]token, error) {
	var toks []token
	col := 1
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		start, startCol := i, col
		emit := func(kind tokenKind, end int, value string) {
			toks = append(toks, token{kind: kind, text: src[start:end], value: value, col: startCol})
			col += utf8.RuneCountInString(src[start:end])
			i = end
		}
		switch {
		case unicode.IsSpace(r):
			i += size
			col++
		case r == '\'' || r == '"' || r == '`':
			value, end, ok := quoted(src, i, byte(r))
			if !ok {
				return nil, errAt(startCol, "unterminated %s", map[rune]string{'\'': "string", '"': "string", '`': "quoted name"}[r])
			}
			kind := tokString
			if r == '`' {
				kind = tokQuoted
			}
			emit(kind, end, value)
		case isDigit(r) || ((r == '-' || r == '+' || r == '.') && i+1 < len(src) && (isDigit(rune(src[i+1])) || src[i+1] == '.')):
			end := numberEnd(src, i)
			emit(tokNumber, end, src[i:end])
		case unicode.IsLetter(r) || r == '_':
			end := i
			for end < len(src) {
				r, n := utf8.DecodeRuneInString(src[end:])
				if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '-' || r == '/') {
					break
				}
				end += n
			}
			emit(tokWord, end, src[i:end])
		case strings.HasPrefix(src[i:], "!=") || strings.HasPrefix(src[i:], "<>") ||
			strings.HasPrefix(src[i:], "<=") || strings.HasPrefix(src[i:], ">="):
			emit(tokOp, i+2, src[i:i+2])
		case r == '=' || r == '<' || r == '>':
			emit(tokOp, i+1, src[i:i+1])
		case r == '(':
			emit(tokLParen, i+1, "(")
		case r == ')':
			emit(tokRParen, i+1, ")")
		case r == ',':
			emit(tokComma, i+1, ",")
		default:
			emit(tokOther, i+size, src[i:i+size])
		}
	}
	return append(toks, token{kind: tokEOF, col: col}), nil
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// quoted reads a string opened by q at src[i]; a doubled quote stands for
// one, as in SQL. It returns the value and the index after the closing
// quote.
func quoted(src string, i int, q byte) (string, int, bool) {
	var b strings.Builder
	for j := i + 1; j < len(src); j++ {
		if src[j] != q {
			b.WriteByte(src[j])
			continue
		}
		if j+1 < len(src) && src[j+1] == q {
			b.WriteByte(q)
			j++
			continue
		}
		return b.String(), j + 1, true
	}
	return "", 0, false
}

// numberEnd returns the end of the number starting at src[i]: a sign,
// digits, a fraction and an exponent, each optional but some digit.
func numberEnd(src string, i int) int {
	j := i
	if src[j] == '-' || src[j] == '+' {
		j++
	}
	digits := func() {
		for j < len(src) && isDigit(rune(src[j])) {
			j++
		}
	}
	digits()
	if j < len(src) && src[j] == '.' {
		j++
		digits()
	}
	if j+1 < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if src[k] == '-' || src[k] == '+' {
			k++
		}
		if k < len(src) && isDigit(rune(src[k])) {
			j = k
			digits()
		}
	}
	return j
}
