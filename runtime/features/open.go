package features

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
)

// openedSource is a source file positioned where this materialization
// starts reading: after the header of a full read, or after the bytes the
// last materialization read when the file only grew.
type openedSource struct {
	rows rowReader
	file fs.File
	// CSV files are read as a stream and hashed on the way.
	hr *hashingReader
	cr *csvReader
	// Parquet files are read whole.
	size int64
	sha  string
}

func (o *openedSource) close() { o.file.Close() }

// state is what the next materialization compares the file with.
func (o *openedSource) state() (size int64, sha string, lines int) {
	if o.hr != nil {
		return o.hr.n, o.hr.sum(), o.cr.line
	}
	return o.size, o.sha, 0
}

// openSource opens a view's source for reading. res.Reason is set when the
// read must be full although the view did not ask for it: the file was
// rewritten rather than appended to, or the tables are gone.
func (s *Store) openSource(ctx context.Context, tx *sql.Tx, fsys fs.FS, v *ViewInfo, prev *record, res *MaterializeResult) (*openedSource, error) {
	if res.Reason == "" {
		ok, err := tableExists(ctx, tx, "features_offline_"+v.Name)
		if err != nil {
			return nil, err
		}
		if !ok {
			res.Reason = "offline table missing"
		}
	}
	path := v.Source.Path
	f, err := openData(fsys, path)
	if err != nil {
		return nil, err
	}
	if v.Source.Format == "parquet" {
		return openParquet(f, path, prev, res)
	}
	if res.Reason == "" {
		if o := openAppended(f, path, prev); o != nil {
			return o, nil
		}
		f.Close()
		if f, err = openData(fsys, path); err != nil {
			return nil, err
		}
		res.Reason = "source rewritten"
	}
	hr := newHashingReader(f, 0)
	rows, err := newCSVRows(path, hr)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &openedSource{rows: rows, file: f, hr: hr, cr: rows.cr}, nil
}

// openAppended positions a CSV file after the bytes prev read, or returns
// nil when those bytes changed: then the file was rewritten, not appended
// to, and must be read in full.
func openAppended(f fs.File, path string, prev *record) *openedSource {
	hr := newHashingReader(f, prev.size)
	rows, err := newCSVRows(path, hr)
	if err != nil || rows.cr.skipTo(prev.size, prev.lines) != nil || !hr.prefixIs(prev.sha) {
		return nil
	}
	if hr.markLast != '\n' {
		// The last record read had no line end: bytes after it would
		// have extended it, unless they start a new line.
		if b, more := rows.cr.peek(); more && b != '\n' && b != '\r' {
			return nil
		}
	}
	return &openedSource{rows: rows, file: f, hr: hr, cr: rows.cr}
}

// openParquet reads a Parquet file whole. A file that changed at all is
// read in full (Parquet files cannot be appended to); an unchanged one
// yields no rows.
func openParquet(f fs.File, path string, prev *record, res *MaterializeResult) (*openedSource, error) {
	ra, size, sha, err := readAllAt(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read data file %s: %w", path, err)
	}
	rows, err := newParquetRows(path, ra, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	if res.Reason == "" && (size != prev.size || sha != prev.sha) {
		res.Reason = "source changed"
	}
	if res.Reason == "" {
		rows.groups = nil
	}
	return &openedSource{rows: rows, file: f, size: size, sha: sha}, nil
}
