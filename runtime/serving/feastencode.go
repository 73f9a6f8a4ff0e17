package serving

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// encodeFeast writes Feast's response: the entity columns as sent, with
// status PRESENT and the zero timestamp, then each feature's column.
func encodeFeast(refs []string, cols []entityColumn, vals [][]OnlineValue, full bool) []byte {
	b := []byte(`{"metadata":{"feature_names":[`)
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, c.name)
	}
	for _, ref := range refs {
		view, field, _ := strings.Cut(ref, ":")
		name := field
		if full {
			name = view + "__" + field
		}
		b = append(b, ',')
		b = appendString(b, name)
	}
	b = append(b, `]},"results":[`...)
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"values":[`...)
		for r, v := range c.values {
			if r > 0 {
				b = append(b, ',')
			}
			b = append(b, bytes.TrimSpace(v)...)
		}
		b = appendColumnMeta(b, len(c.values), func(int) (string, time.Time) { return "PRESENT", time.Time{} })
	}
	for j := range refs {
		b = append(b, `,{"values":[`...)
		for r := range vals {
			if r > 0 {
				b = append(b, ',')
			}
			b = appendFeastValue(b, vals[r][j].Value)
		}
		b = appendColumnMeta(b, len(vals), func(r int) (string, time.Time) { return vals[r][j].Status, vals[r][j].EventTime })
	}
	return append(b, "]}\n"...)
}

// appendColumnMeta closes a column's values and appends its statuses and
// event timestamps.
func appendColumnMeta(b []byte, n int, at func(int) (string, time.Time)) []byte {
	b = append(b, `],"statuses":[`...)
	for r := range n {
		if r > 0 {
			b = append(b, ',')
		}
		st, _ := at(r)
		b = appendString(b, st)
	}
	b = append(b, `],"event_timestamps":[`...)
	for r := range n {
		if r > 0 {
			b = append(b, ',')
		}
		_, ts := at(r)
		b = appendString(b, protoTimestamp(ts))
	}
	return append(b, "]}"...)
}

// appendFeastValue appends a feature value as Feast's JSON shows it.
func appendFeastValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		return appendFloat(b, v, 64)
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	}
	return append(b, "null"...)
}

// protoTimestamp formats t as protobuf's JSON does a Timestamp: UTC, with
// 0, 3, 6 or 9 fractional digits; the zero time is the Unix epoch.
func protoTimestamp(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	t = t.UTC()
	layout := "2006-01-02T15:04:05Z"
	switch ns := t.Nanosecond(); {
	case ns == 0:
	case ns%1e6 == 0:
		layout = "2006-01-02T15:04:05.000Z"
	case ns%1e3 == 0:
		layout = "2006-01-02T15:04:05.000000Z"
	default:
		layout = "2006-01-02T15:04:05.000000000Z"
	}
	return t.Format(layout)
}
