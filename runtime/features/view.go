package features

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Value types of view fields and frame columns.
const (
	TypeInt64   = "int64"
	TypeFloat64 = "float64"
	TypeString  = "string"
	TypeBool    = "bool"
	// TypeTimestamp is a frame column of unix nanoseconds.
	TypeTimestamp = "timestamp"
)

// ViewInfo is a feature view as it was last materialized. The store records
// it so that History and Online need nothing but the state file.
type ViewInfo struct {
	Name     string        `json:"name"`
	Entities []EntityInfo  `json:"entities"`
	Fields   []FieldInfo   `json:"fields"`
	TTL      time.Duration `json:"ttl"` // 0 means values never expire
	Online   bool          `json:"online"`
	Source   SourceInfo    `json:"source"`

	// Version moves with every materialization.
	Version        int64     `json:"-"`
	Watermark      time.Time `json:"-"` // newest event time materialized; zero when none
	MaterializedAt time.Time `json:"-"`
}

// EntityInfo is one of a view's entities: its join key names the entity
// row column, or the request key, that selects rows.
type EntityInfo struct {
	Name    string `json:"name"`
	JoinKey string `json:"join_key"`
	Type    string `json:"type"` // int64 or string
}

// FieldInfo is one typed field of a view.
type FieldInfo struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Expr string `json:"expr,omitempty"`
}

// SourceInfo is the data file a view reads.
type SourceInfo struct {
	Name             string `json:"name"`
	Path             string `json:"path"`
	Format           string `json:"format"`
	Timestamp        string `json:"timestamp"`
	CreatedTimestamp string `json:"created_timestamp,omitempty"`
}

// field returns the index of the named field, or -1.
func (v *ViewInfo) field(name string) int {
	for i, f := range v.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// layout is the hash of everything the view's stored rows depend on: when
// it moves, the tables are rebuilt rather than appended to. TTL and online
// are read-time settings and are not part of it.
func (v *ViewInfo) layout() string {
	type key struct{ JoinKey, Type string }
	keys := make([]key, len(v.Entities))
	for i, e := range v.Entities {
		keys[i] = key{e.JoinKey, e.Type}
	}
	src := v.Source
	src.Name = ""
	b, _ := json.Marshal(struct {
		Keys   []key
		Fields []FieldInfo
		Source SourceInfo
	}{keys, v.Fields, src})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// viewInfo checks a materialization request and turns it into the record
// the store keeps.
func viewInfo(req MaterializeRequest) (*ViewInfo, error) {
	fv, src := req.View, req.Source
	if fv == nil || src == nil {
		return nil, fmt.Errorf("materialize: request needs a view and its source")
	}
	name := fv.Addr.Name
	if name == "" {
		return nil, fmt.Errorf("materialize: view has no name")
	}
	if len(req.Entities) != len(fv.Entities) || len(fv.Entities) == 0 {
		return nil, fmt.Errorf("materialize %s: view names %d entities, request has %d", name, len(fv.Entities), len(req.Entities))
	}
	format, err := sourceFormat(src)
	if err != nil {
		return nil, fmt.Errorf("materialize %s: %w", name, err)
	}
	if src.Timestamp == "" {
		return nil, fmt.Errorf("materialize %s: source %s declares no timestamp column", name, src.Path)
	}
	v := &ViewInfo{
		Name: name, TTL: fv.TTL, Online: fv.Online,
		Source: SourceInfo{Name: src.Addr.Name, Path: src.Path, Format: format, Timestamp: src.Timestamp, CreatedTimestamp: src.CreatedTimestamp},
	}
	if v.TTL < 0 {
		return nil, fmt.Errorf("materialize %s: negative ttl %s", name, v.TTL)
	}
	seen := map[string]bool{}
	for i, e := range req.Entities {
		if e == nil || e.JoinKey == "" {
			return nil, fmt.Errorf("materialize %s: entity %s is not defined", name, fv.Entities[i])
		}
		if e.Type != TypeInt64 && e.Type != TypeString {
			return nil, fmt.Errorf("materialize %s: entity %s has type %q (want int64 or string)", name, fv.Entities[i], e.Type)
		}
		if seen[e.JoinKey] {
			return nil, fmt.Errorf("materialize %s: join key %s appears twice", name, e.JoinKey)
		}
		seen[e.JoinKey] = true
		v.Entities = append(v.Entities, EntityInfo{Name: fv.Entities[i], JoinKey: e.JoinKey, Type: e.Type})
	}
	if len(fv.Fields) == 0 {
		return nil, fmt.Errorf("materialize %s: view has no fields", name)
	}
	for _, f := range fv.Fields {
		switch f.Type {
		case TypeInt64, TypeFloat64, TypeString, TypeBool:
		default:
			return nil, fmt.Errorf("materialize %s: field %s has type %q (want int64, float64, string or bool)", name, f.Name, f.Type)
		}
		if err := checkExpr(f.Expr); err != nil {
			return nil, fmt.Errorf("materialize %s: field %s: %w", name, f.Name, err)
		}
		v.Fields = append(v.Fields, FieldInfo{Name: f.Name, Type: f.Type, Expr: strings.TrimSpace(f.Expr)})
	}
	return v, nil
}

// Tables and their columns. Keys are k0, k1, … in view order; field
// columns are prefixed so that no field name can collide with them.
func offlineTable(view string) string { return quoteIdent("features_offline_" + view) }
func onlineTable(view string) string  { return quoteIdent("features_online_" + view) }
func keyCol(i int) string             { return fmt.Sprintf("k%d", i) }
func fieldCol(name string) string     { return quoteIdent("f_" + name) }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func sqlType(typ string) string {
	switch typ {
	case TypeInt64, TypeBool:
		return "INTEGER"
	case TypeFloat64:
		return "REAL"
	}
	return "TEXT"
}

// createOffline is the DDL of a view's history: one row per entity key and
// event time (and creation time), clustered in that order so that a
// point-in-time lookup is one b-tree seek.
func createOffline(v *ViewInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (", offlineTable(v.Name))
	pk := keyDecls(v, &b)
	b.WriteString(", ts INTEGER NOT NULL")
	pk += ", ts"
	if v.Source.CreatedTimestamp != "" {
		b.WriteString(", cts INTEGER NOT NULL")
		pk += ", cts"
	}
	for _, f := range v.Fields {
		fmt.Fprintf(&b, ", %s %s", fieldCol(f.Name), sqlType(f.Type))
	}
	fmt.Fprintf(&b, ", PRIMARY KEY (%s)) WITHOUT ROWID", pk)
	return b.String()
}

// createOnline is the DDL of a view's latest values: one row per entity.
func createOnline(v *ViewInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (", onlineTable(v.Name))
	pk := keyDecls(v, &b)
	b.WriteString(", ts INTEGER NOT NULL, cts INTEGER NOT NULL")
	for _, f := range v.Fields {
		fmt.Fprintf(&b, ", %s %s", fieldCol(f.Name), sqlType(f.Type))
	}
	fmt.Fprintf(&b, ", PRIMARY KEY (%s)) WITHOUT ROWID", pk)
	return b.String()
}

func keyDecls(v *ViewInfo, b *strings.Builder) string {
	var pk []string
	for i, e := range v.Entities {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "%s %s NOT NULL", keyCol(i), sqlType(e.Type))
		pk = append(pk, keyCol(i))
	}
	return strings.Join(pk, ", ")
}

// keyList is "k0, k1" with an optional table prefix.
func keyList(v *ViewInfo, prefix string) string {
	cols := make([]string, len(v.Entities))
	for i := range v.Entities {
		cols[i] = prefix + keyCol(i)
	}
	return strings.Join(cols, ", ")
}

// fieldList is the view's field columns with an optional table prefix.
func fieldList(v *ViewInfo, prefix string) string {
	cols := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		cols[i] = prefix + fieldCol(f.Name)
	}
	return strings.Join(cols, ", ")
}
