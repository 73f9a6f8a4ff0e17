package training

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// timeColumnName is the event-time column's name in the contract's CSV:
// "event_time", or with underscores in front while that names a column.
func timeColumnName(f *Frame) string {
	name := "event_time"
	for f.Column(name) != nil {
		name = "_" + name
	}
	return name
}

// writeCSV writes f with a header, numbers in the shortest form that reads
// back exactly, times as RFC 3339 in UTC.
func writeCSV(path string, f *Frame, timeColumn string) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(file, 1<<20)
	w := csv.NewWriter(bw)
	header := f.names()
	if timeColumn != "" {
		header = append(header, timeColumn)
	}
	err = w.Write(header)
	record := make([]string, len(header))
	for i := 0; i < f.Rows() && err == nil; i++ {
		for j, c := range f.Columns {
			if c.IsString() {
				record[j] = c.Strings[i]
			} else {
				record[j] = strconv.FormatFloat(c.Floats[i], 'g', -1, 64)
			}
		}
		if timeColumn != "" {
			record[len(record)-1] = f.Time[i].UTC().Format(time.RFC3339Nano)
		}
		err = w.Write(record)
	}
	w.Flush()
	err = errors.Join(err, w.Error(), bw.Flush(), file.Close())
	return err
}

// collect reads the program's outputs into res.
func (c *commandFiles) collect(res *CommandResult) error {
	res.ModelPath = filepath.Join(c.output, CommandModelFile)
	model, err := os.ReadFile(res.ModelPath)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("exited 0 but wrote no %s into $SLUICE_OUTPUT", CommandModelFile)
	}
	if err != nil {
		return err
	}
	if len(model) == 0 {
		return fmt.Errorf("wrote an empty %s", CommandModelFile)
	}
	if ort.IsInitialized() {
		if _, _, err := ort.GetInputOutputInfoWithONNXData(model); err != nil {
			return fmt.Errorf("wrote a %s that is not an ONNX model ONNX Runtime can read: %w", CommandModelFile, err)
		}
	}
	res.Model = model
	data, err := os.ReadFile(filepath.Join(c.output, CommandMetricsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	res.Metrics, err = parseMetrics(data)
	if err != nil {
		return fmt.Errorf("%s: %w", CommandMetricsFile, err)
	}
	return nil
}

// parseMetrics reads metrics.json: an object of names to finite numbers.
func parseMetrics(data []byte) (map[string]float64, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := lineCol(data, syn.Offset)
			return nil, fmt.Errorf("line %d column %d: %v", line, col, err)
		}
		return nil, fmt.Errorf("want an object of metric names to numbers: %w", err)
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	metrics := make(map[string]float64, len(raw))
	var errs []error
	for _, name := range names {
		var v float64
		if err := json.Unmarshal(raw[name], &v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			errs = append(errs, fmt.Errorf("%q is %s, want a number", name, bytes.TrimSpace(raw[name])))
			continue
		}
		if err := checkKey("metric", name); err != nil {
			errs = append(errs, err)
			continue
		}
		metrics[name] = v
	}
	return metrics, errors.Join(errs...)
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(data []byte, offset int64) (line, col int) {
	offset = min(offset, int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

// logTail returns the last n lines of the log at path, indented under a
// heading, or "" when it is empty.
func logTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > window {
		f.Seek(st.Size()-window, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	lines = lines[max(0, len(lines)-n):]
	return fmt.Sprintf("; last %d log lines:\n    %s", len(lines), strings.Join(lines, "\n    "))
}

// cappedLog writes a program's output to a file up to a limit and counts
// what it drops past it. Stdout and stderr share it, from two goroutines.
type cappedLog struct {
	mu      sync.Mutex
	f       *os.File
	left    int64
	dropped int64
	closed  bool
}

func newCappedLog(path string, limit int64) (*cappedLog, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &cappedLog{f: f, left: limit}, nil
}

func (l *cappedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return len(p), nil
	}
	keep := int64(len(p))
	if keep > l.left {
		keep = l.left
	}
	if keep > 0 {
		if _, err := l.f.Write(p[:keep]); err != nil {
			return 0, err
		}
		l.left -= keep
	}
	l.dropped += int64(len(p)) - keep
	return len(p), nil
}

// Close notes the bytes dropped, if any, and closes the file; it may be
// called twice.
func (l *cappedLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.dropped > 0 {
		fmt.Fprintf(l.f, "\n[sluice: log capped, %d more bytes dropped]\n", l.dropped)
	}
	return l.f.Close()
}
