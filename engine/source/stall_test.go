package source

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestOpenOfAStalledServerTimesOut opens a remote repository whose server
// accepts connections and never answers: Open fails within its
// FetchTimeout, saying it timed out, instead of waiting forever.
func TestOpenOfAStalledServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	done := make(chan error, 1)
	go func() {
		_, err := Open(context.Background(), Options{Repo: "http://" + ln.Addr().String() + "/repo.git",
			CacheDir: t.TempDir(), FetchTimeout: 200 * time.Millisecond})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "timed out after 200ms") {
			t.Fatalf("Open of a stalled server: %v, want a timeout", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Open of a stalled server did not return within a minute")
	}
}
