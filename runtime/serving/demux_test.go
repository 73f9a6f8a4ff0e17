package serving

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// A request shorter than HTTP/2's 24-byte preface must be classified by
// its first byte, not wait for bytes that never come.
func TestShortHTTPRequestIsAnsweredOnTheSharedListener(t *testing.T) {
	ts := newServer(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /v2 HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("no answer to a 21-byte request: %v", err)
	}
	// HTTP/1.1 answers 1.0 requests as 1.1 (RFC 9110 §6.2: the server's
	// own version); either is an answer.
	if !(strings.HasPrefix(string(b), "HTTP/1.0 200") || strings.HasPrefix(string(b), "HTTP/1.1 200")) || !strings.Contains(string(b), `"name"`) {
		t.Errorf("GET /v2 answered %q", b)
	}
}
