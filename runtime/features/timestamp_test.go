package features

import (
	"testing"
	"time"
)

func TestParseTimestampLayouts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // RFC 3339 in UTC
	}{
		{"2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"},
		{"2024-05-01t10:00:00z", "2024-05-01T10:00:00Z"},
		{"2024-05-01T10:00:00.123456789Z", "2024-05-01T10:00:00.123456789Z"},
		{"2024-05-01T10:00:00.5+02:00", "2024-05-01T08:00:00.5Z"},
		{"2024-05-01T10:00:00-07:30", "2024-05-01T17:30:00Z"},
		{"2024-05-01T10:00:00", "2024-05-01T10:00:00Z"},
		{"2024-05-01 10:00:00", "2024-05-01T10:00:00Z"},
		{"2024-05-01 10:00:00.25", "2024-05-01T10:00:00.25Z"},
		{"2024-02-29", "2024-02-29T00:00:00Z"},
		{"1714557600", "2024-05-01T10:00:00Z"},
		{"-86400", "1969-12-31T00:00:00Z"},
		{"0", "1970-01-01T00:00:00Z"},
		{"1900-03-01", "1900-03-01T00:00:00Z"},
	} {
		ns, err := parseTimestamp([]byte(tc.in))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := time.Unix(0, ns).UTC().Format(time.RFC3339Nano); got != tc.want {
			t.Errorf("%q = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseTimestampRejects(t *testing.T) {
	for _, in := range []string{
		"", "yesterday", "2024-5-1", "2023-02-29", "2024-04-31", "2024-00-10", "2024-05-01T24:00:00Z",
		"2024-05-01T10:00", "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00+2", "2024-05-01X10:00:00",
		"1714557600.5", "99999999999999999999", "3000-01-01",
	} {
		if ns, err := parseTimestamp([]byte(in)); err == nil {
			t.Errorf("%q = %v, want an error", in, time.Unix(0, ns).UTC())
		}
	}
}

// parseTimestamp agrees with the time package on every day of four
// centuries, leap years included.
func TestParseTimestampAgreesWithTimePackage(t *testing.T) {
	for d := time.Date(1800, 1, 1, 13, 14, 15, 0, time.UTC); d.Year() < 2200; d = d.Add(24 * time.Hour) {
		s := d.Format(time.DateTime)
		ns, err := parseTimestamp([]byte(s))
		if err != nil || ns != d.UnixNano() {
			t.Fatalf("%s = %d, %v; want %d", s, ns, err, d.UnixNano())
		}
	}
}
