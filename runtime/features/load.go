package features

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"sync"
)

// loadCol is one value bound per row: a join key, a timestamp, a typed
// field column, or a raw column an expression reads.
type loadCol struct {
	name     string // the source column
	kind     colKind
	src      int    // position in the reader's columns
	required bool   // keys and timestamps may not be empty
	what     string // what a required column is, for messages
}

// loadPlan says how a view's rows go from a reader into its offline table:
// which columns are bound, and the insert statement for n rows.
type loadPlan struct {
	view   *ViewInfo
	cols   []loadCol
	layout layout
	// The insert statement of n rows is head, n tuples of parameters,
	// then tail.
	head, tail string
	perStmt    int
}

// planLoad maps the view's columns onto the reader's. A view without
// expressions binds typed values straight into the table; one with
// expressions binds the source columns into a CTE and selects the
// expressions over it, so SQLite evaluates them as the rows go in.
func planLoad(v *ViewInfo, rr rowReader) (*loadPlan, error) {
	header := rr.columns()
	find := func(name string) (int, error) {
		for i, h := range header {
			if h == name {
				return i, nil
			}
		}
		return 0, rr.headerFail(name, "not in the file (it has: "+strings.Join(header, ", ")+")")
	}
	p := &loadPlan{view: v}
	add := func(name string, k colKind, required bool, what string) error {
		i, err := find(name)
		if err != nil {
			return err
		}
		p.cols = append(p.cols, loadCol{name: name, kind: k, src: i, required: required, what: what})
		return nil
	}
	for _, e := range v.Entities {
		if err := add(e.JoinKey, kindOf(e.Type), true, "join key"); err != nil {
			return nil, err
		}
		p.layout.textKey = append(p.layout.textKey, e.Type == TypeString)
	}
	if err := add(v.Source.Timestamp, kindTime, true, "event timestamp"); err != nil {
		return nil, err
	}
	if c := v.Source.CreatedTimestamp; c != "" {
		if err := add(c, kindTime, true, "created timestamp"); err != nil {
			return nil, err
		}
		p.layout.created = true
	}
	fixed := len(p.cols)
	exprs := false
	for _, f := range v.Fields {
		exprs = exprs || f.Expr != ""
	}
	target := fmt.Sprintf("INSERT OR REPLACE INTO %s(%s, ts%s, %s)", offlineTable(v.Name), keyList(v, ""), createdCol(v), fieldList(v, ""))
	if !exprs {
		for _, f := range v.Fields {
			if err := add(f.Name, kindOf(f.Type), false, ""); err != nil {
				return nil, err
			}
		}
		p.head, p.tail = target+" VALUES ", ""
	} else if err := p.planExprs(v, header, fixed, add, target); err != nil {
		return nil, err
	}
	for j, c := range p.cols {
		if c.kind == kindText || c.kind == kindInfer {
			p.layout.textCols = append(p.layout.textCols, j)
		}
	}
	p.perStmt = max(1, 4096/len(p.cols))
	return p, nil
}

func createdCol(v *ViewInfo) string {
	if v.Source.CreatedTimestamp != "" {
		return ", cts"
	}
	return ""
}

// planExprs binds every source column the fields read, typed where a
// field declares the column and as found otherwise, and casts each
// expression to its field's type.
func (p *loadPlan) planExprs(v *ViewInfo, header []string, fixed int, add func(string, colKind, bool, string) error, target string) error {
	bound := map[string]bool{}
	for _, f := range v.Fields {
		if f.Expr == "" && !bound[strings.ToLower(f.Name)] {
			if err := add(f.Name, kindOf(f.Type), false, ""); err != nil {
				return err
			}
			bound[strings.ToLower(f.Name)] = true
		}
	}
	for _, f := range v.Fields {
		for _, id := range exprIdents(f.Expr) {
			for _, h := range header {
				if strings.EqualFold(h, id) && !bound[strings.ToLower(h)] {
					add(h, kindInfer, false, "")
					bound[strings.ToLower(h)] = true
				}
			}
		}
	}
	names := make([]string, len(p.cols))
	for i, c := range p.cols {
		names[i] = quoteIdent(c.name)
		if i < fixed {
			names[i] = fmt.Sprintf(`"__%d"`, i)
		}
	}
	sel := make([]string, 0, fixed+len(v.Fields))
	for i := range fixed {
		sel = append(sel, names[i])
	}
	for _, f := range v.Fields {
		if f.Expr == "" {
			sel = append(sel, quoteIdent(f.Name))
			continue
		}
		sel = append(sel, castExpr(f))
	}
	p.head = fmt.Sprintf("WITH src(%s) AS (VALUES ", strings.Join(names, ", "))
	p.tail = fmt.Sprintf(") %s SELECT %s FROM src", target, strings.Join(sel, ", "))
	return nil
}

// castExpr makes an expression's value the field's declared type.
func castExpr(f FieldInfo) string {
	switch f.Type {
	case TypeBool:
		return "((" + f.Expr + ") != 0)"
	default:
		return "CAST((" + f.Expr + ") AS " + sqlType(f.Type) + ")"
	}
}

// stmt is the insert statement for n rows.
func (p *loadPlan) stmt(n int) string {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(p.cols)), ",") + ")"
	var b strings.Builder
	b.Grow(len(p.head) + len(p.tail) + n*(len(tuple)+1))
	b.WriteString(p.head)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(tuple)
	}
	b.WriteString(p.tail)
	return b.String()
}

// loader reads a source's rows into a view's offline table in sorted runs:
// rows are parsed into chunks that are sorted while the next is parsed,
// then merged and inserted in key order, which SQLite's b-tree takes many
// times faster than file order.
type loader struct {
	tx        *sql.Tx
	plan      *loadPlan
	rr        rowReader
	runRows   int
	chunkRows int
	// trackKeys collects the distinct entity keys inserted, for updating
	// the online table after an incremental load.
	trackKeys bool

	read, written int64
	maxTS         int64
	anyTS         bool
	touched       []any // entity keys, len(view.Entities) values each
}

// load reads every remaining row.
func (ld *loader) load(ctx context.Context) error {
	if ld.chunkRows == 0 {
		ld.chunkRows = 1 << 20
	}
	ld.chunkRows = min(ld.chunkRows, ld.runRows)
	for {
		chunks, eof, err := ld.parseRun(ctx)
		if err != nil {
			return err
		}
		if err := ld.insertRun(ctx, chunks); err != nil {
			return err
		}
		if eof {
			return nil
		}
	}
}

// maxArena keeps text offsets inside a chunk within 32 bits.
const maxArena = 1 << 31

// parseRun parses up to runRows rows into chunks, each sorted in the
// background while the next is parsed.
func (ld *loader) parseRun(ctx context.Context) (chunks []*chunk, eof bool, err error) {
	p := ld.plan
	w := len(p.cols)
	cells := make([]cell, len(ld.rr.columns()))
	var wg sync.WaitGroup
	sorting := make(chan struct{}, 1)
	defer wg.Wait()
	cur := newChunk(w, ld.chunkRows)
	flush := func() {
		c := cur
		chunks = append(chunks, c)
		sorting <- struct{}{}
		wg.Go(func() {
			c.sort(&p.layout)
			<-sorting
		})
		cur = newChunk(w, ld.chunkRows)
	}
	tsCol := p.layout.keys()
	for rows := 0; rows < ld.runRows; rows++ {
		if err := ld.rr.next(cells); err == io.EOF {
			eof = true
			break
		} else if err != nil {
			return nil, false, err
		}
		for _, col := range p.cols {
			tag, n, msg := convert(&cells[col.src], col.kind, &cur.arena)
			if msg == "" && tag == tagNull && col.required {
				msg = "empty " + col.what
			}
			if msg != "" {
				return nil, false, ld.rr.fail(col.name, msg)
			}
			cur.tags = append(cur.tags, tag)
			cur.nums = append(cur.nums, n)
		}
		if ts := int64(cur.nums[cur.rows*w+tsCol]); !ld.anyTS || ts > ld.maxTS {
			ld.maxTS, ld.anyTS = ts, true
		}
		cur.rows++
		ld.read++
		if cur.rows == ld.chunkRows || len(cur.arena) > maxArena {
			flush()
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
		}
	}
	if cur.rows > 0 {
		flush()
	}
	return chunks, eof, nil
}
