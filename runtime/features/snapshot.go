package features

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
)

// parallelRows is how many entity rows make a second reader worth it.
const parallelRows = 50_000

// snapshot is connections that read one state of the store, each in its
// own read transaction: History splits its lookups among them.
type snapshot struct {
	conns []*sql.Conn
}

// openSnapshot begins a read on one connection and reads the named views'
// records there. With parallel, it adds readers on more connections, up to
// the number of CPUs and at most four, keeping each only if it sees the
// same version of every view: only a materialization changes a view's
// tables and it moves the version, so those readers see the same data.
func (s *Store) openSnapshot(ctx context.Context, views []string, parallel bool) (*snapshot, []*ViewInfo, error) {
	sn := &snapshot{}
	main, err := s.beginRead(ctx)
	if err != nil {
		return nil, nil, err
	}
	sn.conns = append(sn.conns, main)
	infos := make([]*ViewInfo, len(views))
	for i, v := range views {
		rec, err := readRecord(ctx, main, v)
		if err != nil {
			sn.close()
			return nil, nil, err
		}
		infos[i] = &rec.info
	}
	if !parallel || s.db.Path == ":memory:" || s.db.Stats().MaxOpenConnections != 0 {
		return sn, infos, nil
	}
	for range min(runtime.GOMAXPROCS(0), 4) - 1 {
		c, err := s.beginRead(ctx)
		if err != nil {
			break
		}
		if !sameVersions(ctx, c, infos) {
			endRead(c)
			break
		}
		sn.conns = append(sn.conns, c)
	}
	return sn, infos, nil
}

func (s *Store) beginRead(ctx context.Context) (*sql.Conn, error) {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	// BEGIN is deferred: the read transaction starts with the first
	// SELECT and holds that state until the end.
	if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
		c.Close()
		return nil, fmt.Errorf("read state: %w", err)
	}
	return c, nil
}

func sameVersions(ctx context.Context, c *sql.Conn, views []*ViewInfo) bool {
	for _, v := range views {
		var version int64
		err := c.QueryRowContext(ctx, `SELECT version FROM feature_views WHERE name = ?`, v.Name).Scan(&version)
		if err != nil || version != v.Version {
			return false
		}
	}
	return true
}

func endRead(c *sql.Conn) {
	c.ExecContext(context.Background(), "ROLLBACK")
	c.Close()
}

func (sn *snapshot) close() {
	for _, c := range sn.conns {
		endRead(c)
	}
}
