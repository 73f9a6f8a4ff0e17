// Command gen writes the drift benchmark's data: a reference and a current
// sample of FEATURES numerical columns, ROWS rows each, as little-endian
// float64 files (ref.f64, cur.f64; column after column) that both Sluice's
// benchmark and the scipy/numpy peer read. Current column i is shifted by
// i/1000, so the features span no drift to clear drift.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", "", "output directory")
	rows := flag.Int("rows", 1000000, "rows per sample")
	features := flag.Int("features", 20, "numerical features")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, side := range []struct {
		name  string
		seed  uint64
		shift float64
	}{{"ref.f64", 1, 0}, {"cur.f64", 1000, 0.001}} {
		if err := write(filepath.Join(*dir, side.name), *rows, *features, side.seed, side.shift); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func write(path string, rows, features int, seed uint64, shift float64) error {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf [8]byte
	for c := 0; c < features; c++ {
		x := seed + uint64(c)*0x1000003
		for i := 0; i < rows; i++ {
			s := 0.0
			for k := 0; k < 4; k++ {
				x += 0x9E3779B97F4A7C15
				z := x
				z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
				z = (z ^ (z >> 27)) * 0x94D049BB133111EB
				z ^= z >> 31
				s += float64(z>>11) * (1.0 / (1 << 53))
			}
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits((s-2)+shift*float64(c)))
			w.Write(buf[:])
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
