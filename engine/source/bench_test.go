package source_test

import (
	"context"
	"io/fs"
	"math/rand/v2"
	"testing"

	"sluice/engine/source"
	"sluice/internal/testgit"
)

// BenchmarkReadFile100MB reads one 100 MB blob, loose and packed.
func BenchmarkReadFile100MB(b *testing.B) {
	data := make([]byte, 100<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i+8 <= len(data); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	r := testgit.New(b)
	r.WriteBytes("big.bin", data)
	r.Commit("big")
	for _, layout := range []string{"loose", "packed"} {
		if layout == "packed" {
			r.Git("gc", "-q")
		}
		b.Run(layout, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				rev, err := source.Open(context.Background(), source.Options{Repo: r.Dir()})
				if err != nil {
					b.Fatal(err)
				}
				got, err := fs.ReadFile(rev.FS, "big.bin")
				if err != nil || len(got) != len(data) {
					b.Fatalf("read %d bytes, %v", len(got), err)
				}
			}
		})
	}
}

// BenchmarkOpenLocal opens a small repository's HEAD and reads one file.
func BenchmarkOpenLocal(b *testing.B) {
	r := testgit.New(b)
	r.Write("specs/app.cue", "a: 1\n")
	r.Commit("one")
	for b.Loop() {
		rev, err := source.Open(context.Background(), source.Options{Repo: r.Dir(), Path: "specs"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fs.ReadFile(rev.FS, "specs/app.cue"); err != nil {
			b.Fatal(err)
		}
	}
}
