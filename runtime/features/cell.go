package features

import (
	"math"
	"strconv"
	"time"
	"unsafe"
)

// cellKind is what a reader found in a cell: CSV cells are text, Parquet
// cells carry their physical and logical type.
type cellKind uint8

const (
	cellNull  cellKind = iota
	cellText           // b
	cellInt            // i
	cellFloat          // f
	cellBool           // i is 0 or 1
	cellTime           // i is unix nanoseconds
)

type cell struct {
	kind cellKind
	b    []byte
	i    int64
	f    float64
}

// colKind is what a loaded column must hold.
type colKind uint8

const (
	kindInt colKind = iota
	kindFloat
	kindText
	kindBool
	kindTime
	// kindInfer keeps a cell as the number or text it looks like: source
	// columns that only expressions read have no declared type.
	kindInfer
)

// kindOf is the column kind of a declared value type.
func kindOf(typ string) colKind {
	switch typ {
	case TypeInt64:
		return kindInt
	case TypeFloat64:
		return kindFloat
	case TypeBool:
		return kindBool
	default:
		return kindText
	}
}

// Value tags of a parsed cell: nums holds an int64's or a float64's bits,
// or a text's arena offset and length.
const (
	tagNull uint8 = iota
	tagInt
	tagFloat
	tagText
)

// convert turns a cell into a tagged value of kind k, appending text to
// arena. A non-empty msg says why it cannot.
func convert(c *cell, k colKind, arena *[]byte) (tag uint8, n uint64, msg string) {
	switch c.kind {
	case cellNull:
		return tagNull, 0, ""
	case cellText:
		if len(c.b) == 0 {
			return tagNull, 0, ""
		}
		return convertText(c.b, k, arena)
	case cellInt, cellBool:
		return convertInt(c, k, arena)
	case cellFloat:
		switch k {
		case kindFloat, kindInfer:
			return tagFloat, math.Float64bits(c.f), ""
		case kindInt:
			if c.f == math.Trunc(c.f) && math.Abs(c.f) < 1<<63 {
				return tagInt, uint64(int64(c.f)), ""
			}
			return 0, 0, "value " + strconv.FormatFloat(c.f, 'g', -1, 64) + " is not an int64"
		case kindText:
			return textTag(strconv.AppendFloat(*arena, c.f, 'g', -1, 64), arena)
		}
		return 0, 0, "a float is not a " + kindName(k)
	case cellTime:
		switch k {
		case kindTime, kindInfer:
			if k == kindInfer {
				return textTag(time.Unix(0, c.i).UTC().AppendFormat(*arena, "2006-01-02T15:04:05.999999999Z"), arena)
			}
			return tagInt, uint64(c.i), ""
		case kindText:
			return textTag(formatTimestamp(*arena, c.i), arena)
		}
		return 0, 0, "a timestamp is not a " + kindName(k)
	}
	return 0, 0, "unsupported value"
}

func convertInt(c *cell, k colKind, arena *[]byte) (uint8, uint64, string) {
	switch k {
	case kindInt, kindInfer:
		return tagInt, uint64(c.i), ""
	case kindFloat:
		if c.kind == cellBool {
			return 0, 0, "a bool is not a float64"
		}
		return tagFloat, math.Float64bits(float64(c.i)), ""
	case kindBool:
		if c.i != 0 && c.i != 1 {
			return 0, 0, "value " + strconv.FormatInt(c.i, 10) + " is not a bool"
		}
		return tagInt, uint64(c.i), ""
	case kindText:
		if c.kind == cellBool {
			return textTag(strconv.AppendBool(*arena, c.i == 1), arena)
		}
		return textTag(strconv.AppendInt(*arena, c.i, 10), arena)
	case kindTime:
		if c.kind == cellBool || c.i > maxUnixSeconds || c.i < -maxUnixSeconds {
			return 0, 0, "value " + strconv.FormatInt(c.i, 10) + " is not a timestamp"
		}
		return tagInt, uint64(c.i * int64(time.Second)), ""
	}
	return 0, 0, "unsupported value"
}

// convertText parses CSV text (or a Parquet string) as kind k.
func convertText(b []byte, k colKind, arena *[]byte) (uint8, uint64, string) {
	switch k {
	case kindInt:
		if v, ok := parseInt(b); ok {
			return tagInt, uint64(v), ""
		}
		if f, err := strconv.ParseFloat(string(b), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return tagInt, uint64(int64(f)), ""
		}
		return 0, 0, parseMsg(b, "int64")
	case kindFloat:
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return 0, 0, parseMsg(b, "float64")
		}
		return tagFloat, math.Float64bits(f), ""
	case kindBool:
		v, err := strconv.ParseBool(string(b))
		if err != nil {
			return 0, 0, parseMsg(b, "bool")
		}
		if v {
			return tagInt, 1, ""
		}
		return tagInt, 0, ""
	case kindTime:
		ns, err := parseTimestamp(b)
		if err != nil {
			return 0, 0, parseMsg(b, "timestamp") + ": " + err.Error()
		}
		return tagInt, uint64(ns), ""
	case kindInfer:
		if v, ok := parseInt(b); ok {
			return tagInt, uint64(v), ""
		}
		if f, err := strconv.ParseFloat(string(b), 64); err == nil {
			return tagFloat, math.Float64bits(f), ""
		}
	}
	return textTag(append(*arena, b...), arena)
}

// textTag records that the text just appended to *arena ends at len(grown).
func textTag(grown []byte, arena *[]byte) (uint8, uint64, string) {
	off := len(*arena)
	*arena = grown
	return tagText, uint64(off)<<32 | uint64(len(grown)-off), ""
}

// parseInt is strconv.ParseInt for the plain decimal integers almost every
// cell holds, without its allocation-free but general machinery.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		if len(b) > 18 {
			v, err := strconv.ParseInt(string(b), 10, 64)
			if err != nil {
				return 0, false
			}
			if neg {
				v = -v
			}
			return v, true
		}
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

func parseMsg(b []byte, typ string) string {
	s := string(b)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return "parse " + strconv.Quote(s) + " as " + typ
}

func kindName(k colKind) string {
	return [...]string{"int64", "float64", "string", "bool", "timestamp", "value"}[k]
}

// text returns a text value of the arena without copying it: the arena is
// not written again while the value is in use, and SQLite copies what it
// is bound.
func text(arena []byte, n uint64) string {
	off, l := n>>32, n&0xffffffff
	if l == 0 {
		return ""
	}
	return unsafe.String(&arena[off], int(l))
}
