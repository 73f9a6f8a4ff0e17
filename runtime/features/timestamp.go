package features

import (
	"errors"
	"strconv"
	"time"
)

// The layouts a timestamp cell may take, as parseTimestamp accepts them.
const timestampLayouts = `RFC3339 ("2024-05-01T12:00:00Z", fraction and zone optional), ` +
	`"2006-01-02 15:04:05", "2006-01-02" or integer unix seconds`

var errTimestamp = errors.New("want " + timestampLayouts)

// parseTimestamp reads a timestamp cell as unix nanoseconds. A value
// without a zone is UTC. It is written by hand because it runs once per row
// of every source: time.Parse costs several times as much.
func parseTimestamp(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, errTimestamp
	}
	if isUnixSeconds(b) {
		s, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil || s > maxUnixSeconds || s < -maxUnixSeconds {
			return 0, errors.New("unix seconds out of range")
		}
		return s * int64(time.Second), nil
	}
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return 0, errTimestamp
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 {
		return 0, errTimestamp
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, errors.New("date out of range")
	}
	if year < 1678 || year > 2261 {
		return 0, errors.New("year out of range (1678 to 2261)")
	}
	secs := daysFromCivil(year, month, day) * 86400
	rest := b[10:]
	if len(rest) == 0 {
		return secs * int64(time.Second), nil
	}
	if rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ' {
		return 0, errTimestamp
	}
	clock, nanos, zone, err := parseClock(rest[1:])
	if err != nil {
		return 0, err
	}
	return (secs+clock-zone)*int64(time.Second) + nanos, nil
}

// maxUnixSeconds keeps seconds·1e9 inside int64 (years 1678 to 2262).
const maxUnixSeconds = 9_223_372_036

func isUnixSeconds(b []byte) bool {
	if b[0] == '-' || b[0] == '+' {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseClock reads "15:04:05[.fraction][Z|±hh:mm]" as seconds of the day,
// nanoseconds and the zone's offset east of UTC in seconds.
func parseClock(b []byte) (clock, nanos, zone int64, err error) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return 0, 0, 0, errTimestamp
	}
	h, ok1 := digits(b[0:2])
	m, ok2 := digits(b[3:5])
	s, ok3 := digits(b[6:8])
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, 0, errTimestamp
	}
	if h > 23 || m > 59 || s > 59 {
		return 0, 0, 0, errors.New("time of day out of range")
	}
	clock = h*3600 + m*60 + s
	b = b[8:]
	if len(b) > 0 && (b[0] == '.' || b[0] == ',') {
		i := 1
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if i <= 9 {
				nanos = nanos*10 + int64(b[i]-'0')
			}
			i++
		}
		if i == 1 {
			return 0, 0, 0, errTimestamp
		}
		for n := i; n <= 9; n++ {
			nanos *= 10
		}
		b = b[i:]
	}
	switch {
	case len(b) == 0:
	case len(b) == 1 && (b[0] == 'Z' || b[0] == 'z'):
	case len(b) == 6 && (b[0] == '+' || b[0] == '-') && b[3] == ':':
		zh, ok1 := digits(b[1:3])
		zm, ok2 := digits(b[4:6])
		if !ok1 || !ok2 || zh > 23 || zm > 59 {
			return 0, 0, 0, errors.New("zone offset out of range")
		}
		zone = zh*3600 + zm*60
		if b[0] == '-' {
			zone = -zone
		}
	default:
		return 0, 0, 0, errTimestamp
	}
	return clock, nanos, zone, nil
}

func digits(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func daysIn(year, month int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days from 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// formatTimestamp writes unix nanoseconds as RFC 3339 in UTC.
func formatTimestamp(b []byte, ns int64) []byte {
	return time.Unix(0, ns).UTC().AppendFormat(b, time.RFC3339Nano)
}
