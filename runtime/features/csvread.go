package features

import (
	"bytes"
	"errors"
	"io"
)

// csvReader splits CSV records (RFC 4180: commas, double quotes with ""
// escapes, LF or CRLF line ends, blank lines skipped) without allocating per
// record: encoding/csv allocates a string per record, and this runs over
// every row of every source. Fields are slices of its buffer, valid until
// the next call to read.
type csvReader struct {
	r          io.Reader
	buf        []byte
	start, end int   // unread bytes are buf[start:end]
	off        int64 // file offset of buf[0]
	eof        bool
	rerr       error
	line       int // newlines consumed before buf[start]
	fields     [][]byte
	scratch    []byte // unescaped quoted fields
}

func newCSVReader(r io.Reader) *csvReader {
	return &csvReader{r: r, buf: make([]byte, 1<<20)}
}

var errNeedMore = errors.New("need more input")

// read returns the next record and the 1-based line it starts on, or
// io.EOF after the last one.
func (c *csvReader) read() (fields [][]byte, line int, err error) {
	for {
		data := c.buf[c.start:c.end]
		if c.off == 0 && c.start == 0 && bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
			c.start += 3
			continue
		}
		if len(data) > 0 && (data[0] == '\n' || (data[0] == '\r' && len(data) > 1 && data[1] == '\n')) {
			c.start += bytes.IndexByte(data, '\n') + 1
			c.line++
			continue
		}
		if len(data) == 0 || (len(data) == 1 && data[0] == '\r' && c.eof) {
			if c.eof {
				if c.rerr != nil {
					return nil, 0, c.rerr
				}
				return nil, 0, io.EOF
			}
			c.fill()
			continue
		}
		n, newlines, err := c.parse(data, c.eof)
		if err == errNeedMore {
			c.fill()
			continue
		}
		line = c.line + 1
		if err != nil {
			return nil, line, err
		}
		c.start += n
		c.line += newlines
		return c.fields, line, nil
	}
}

// parse splits one record off the front of data, reporting how many bytes
// and newlines it used, or errNeedMore when data ends inside it.
func (c *csvReader) parse(data []byte, atEOF bool) (n, newlines int, err error) {
	c.fields, c.scratch = c.fields[:0], c.scratch[:0]
	i := 0
	for {
		var field []byte
		if i < len(data) && data[i] == '"' {
			var nl int
			field, i, nl, err = c.quoted(data, i, atEOF)
			if err != nil {
				return 0, 0, err
			}
			newlines += nl
		} else {
			k := i
			for k < len(data) && data[k] != ',' && data[k] != '\n' {
				k++
			}
			if k == len(data) && !atEOF {
				return 0, 0, errNeedMore
			}
			field, i = data[i:k], k
			if i < len(data) && data[i] == '\n' && len(field) > 0 && field[len(field)-1] == '\r' {
				field = field[:len(field)-1]
			}
		}
		c.fields = append(c.fields, field)
		switch {
		case i == len(data):
			if len(field) > 0 && field[len(field)-1] == '\r' {
				c.fields[len(c.fields)-1] = field[:len(field)-1]
			}
			return i, newlines, nil
		case data[i] == ',':
			i++
		case data[i] == '\n':
			return i + 1, newlines + 1, nil
		case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
			return i + 2, newlines + 1, nil
		case data[i] == '\r' && i+1 == len(data) && !atEOF:
			return 0, 0, errNeedMore
		default:
			return 0, 0, errors.New(`unexpected character after closing quote`)
		}
	}
}

// quoted reads the quoted field that starts at data[i].
func (c *csvReader) quoted(data []byte, i int, atEOF bool) (field []byte, next, newlines int, err error) {
	seg := i + 1
	from := len(c.scratch)
	escaped := false
	for j := seg; ; {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			if atEOF {
				return nil, 0, 0, errors.New("quoted field not closed before the end of the file")
			}
			return nil, 0, 0, errNeedMore
		}
		k += j
		if k+1 == len(data) && !atEOF {
			return nil, 0, 0, errNeedMore
		}
		if k+1 < len(data) && data[k+1] == '"' {
			c.scratch = append(c.scratch, data[seg:k+1]...)
			escaped = true
			j, seg = k+2, k+2
			continue
		}
		newlines = bytes.Count(data[i:k], []byte{'\n'})
		if !escaped {
			return data[i+1 : k], k + 1, newlines, nil
		}
		c.scratch = append(c.scratch, data[seg:k]...)
		return c.scratch[from:], k + 1, newlines, nil
	}
}

// fill reads more input, keeping the unread bytes and growing the buffer
// when a record does not fit.
func (c *csvReader) fill() {
	if c.start > 0 {
		copy(c.buf, c.buf[c.start:c.end])
		c.off += int64(c.start)
		c.end -= c.start
		c.start = 0
	}
	if c.end == len(c.buf) {
		c.buf = append(c.buf, make([]byte, len(c.buf))...)
	}
	for !c.eof {
		n, err := c.r.Read(c.buf[c.end:])
		c.end += n
		if err != nil {
			c.eof = true
			if err != io.EOF {
				c.rerr = err
			}
		}
		if n > 0 {
			return
		}
	}
}

// skipTo discards input up to the file offset to, which must be the end of
// a record, and counts the lines before it as lines.
func (c *csvReader) skipTo(to int64, lines int) error {
	if to < c.off+int64(c.start) {
		return errors.New("offset already read")
	}
	for c.off+int64(c.end) < to {
		if c.eof {
			if c.rerr != nil {
				return c.rerr
			}
			return io.ErrUnexpectedEOF
		}
		c.start = c.end
		c.fill()
	}
	c.start = int(to - c.off)
	c.line = lines
	return nil
}

// peek returns the next unread byte, false at the end of the input.
func (c *csvReader) peek() (byte, bool) {
	for c.start == c.end && !c.eof {
		c.fill()
	}
	if c.start == c.end {
		return 0, false
	}
	return c.buf[c.start], true
}
