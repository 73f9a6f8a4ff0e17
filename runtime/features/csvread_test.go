package features

import (
	"bytes"
	"encoding/csv"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCSVReaderSplitsRecordsAndCountsLines(t *testing.T) {
	in := "\xef\xbb\xbfa,b,c\r\n1,\"x,y\",\"say \"\"hi\"\"\"\r\n\r\n2,\"two\nlines\",\n3,,last"
	type rec struct {
		line   int
		fields []string
	}
	want := []rec{
		{1, []string{"a", "b", "c"}},
		{2, []string{"1", "x,y", `say "hi"`}},
		{4, []string{"2", "two\nlines", ""}},
		{6, []string{"3", "", "last"}},
	}
	for _, size := range []int{1, 2, 3, 7, 1 << 20} {
		cr := newCSVReader(iotest.HalfReader(strings.NewReader(in)))
		cr.buf = make([]byte, size)
		var got []rec
		for {
			fields, line, err := cr.read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("buffer %d: %v", size, err)
			}
			r := rec{line: line}
			for _, f := range fields {
				r.fields = append(r.fields, string(f))
			}
			got = append(got, r)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("buffer %d: records = %+v\nwant %+v", size, got, want)
		}
	}
}

// The reader agrees with encoding/csv on whatever encoding/csv writes.
func TestCSVReaderReadsWhatEncodingCSVWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", ",", "\"", "\n", " ", "é", "1", "\r\n"}
	for trial := range 200 {
		var records [][]string
		cols := 1 + rng.IntN(4)
		for range 1 + rng.IntN(6) {
			rec := make([]string, cols)
			for j := range rec {
				var b strings.Builder
				for range rng.IntN(6) {
					b.WriteString(alphabet[rng.IntN(len(alphabet))])
				}
				rec[j] = b.String()
			}
			if cols == 1 && rec[0] == "" {
				rec[0] = "x" // a lone empty field is a blank line, which both skip
			}
			records = append(records, rec)
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.WriteAll(records)
		cr := newCSVReader(iotest.OneByteReader(bytes.NewReader(buf.Bytes())))
		cr.buf = make([]byte, 1+trial%5)
		var got [][]string
		for {
			fields, _, err := cr.read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("trial %d: %v on %q", trial, err, buf.String())
			}
			var rec []string
			for _, f := range fields {
				rec = append(rec, strings.ReplaceAll(string(f), "\r\n", "\n"))
			}
			got = append(got, rec)
		}
		for _, rec := range records {
			for j := range rec {
				rec[j] = strings.ReplaceAll(rec[j], "\r\n", "\n")
			}
		}
		if !reflect.DeepEqual(got, records) {
			t.Fatalf("trial %d: read %q\nwrote %q\nas %q", trial, got, records, buf.String())
		}
	}
}
