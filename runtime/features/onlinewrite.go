package features

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// updateOnline writes each entity's newest offline row into the online
// table, for the given entity keys (len(v.Entities) values each) or, when
// keys is nil, for every entity. An online row is replaced only by a row
// with a newer event time (or the same event time and a creation time no
// older), so re-materializing an old window never moves a value back.
func updateOnline(ctx context.Context, tx *sql.Tx, v *ViewInfo, keys []any) (int64, error) {
	if keys != nil {
		if err := stageKeys(ctx, tx, v, keys); err != nil {
			return 0, err
		}
		defer tx.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp.features_touched")
	}
	sets := []string{"ts = excluded.ts", "cts = excluded.cts"}
	for _, f := range v.Fields {
		sets = append(sets, fmt.Sprintf("%s = excluded.%s", fieldCol(f.Name), fieldCol(f.Name)))
	}
	on := onlineTable(v.Name)
	r, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %[1]s(%[2]s, ts, cts, %[3]s) %[4]s
		ON CONFLICT(%[2]s) DO UPDATE SET %[5]s
		WHERE excluded.ts > %[1]s.ts OR (excluded.ts = %[1]s.ts AND excluded.cts >= %[1]s.cts)`,
		on, keyList(v, ""), fieldList(v, ""), newestRows(v, keys != nil), strings.Join(sets, ", ")))
	if err != nil {
		return 0, fmt.Errorf("update online table of %s: %w", v.Name, err)
	}
	n, _ := r.RowsAffected()
	return n, nil
}

// newestRows selects each entity's newest offline row, of the staged
// entities only when touched is set. Without creation times an entity's newest event time is unique,
// and SQLite takes the other columns of a max() aggregate from the row
// that has the max: one scan. With them, several rows may share it; they
// are selected in creation order, so that the last created is upserted
// last and wins.
func newestRows(v *ViewInfo, touched bool) string {
	keys, off := keyList(v, ""), offlineTable(v.Name)
	where := "true"
	if touched {
		where = fmt.Sprintf("(%s) IN (SELECT %s FROM temp.features_touched)", keys, keys)
	}
	if v.Source.CreatedTimestamp == "" {
		return fmt.Sprintf("SELECT %s, max(ts), 0, %s FROM %s WHERE %s GROUP BY %s", keys, fieldList(v, ""), off, where, keys)
	}
	join := make([]string, len(v.Entities))
	for i := range v.Entities {
		join[i] = fmt.Sprintf("o.%s = m.%s", keyCol(i), keyCol(i))
	}
	return fmt.Sprintf(`SELECT %[1]s, o.ts, o.cts, %[2]s FROM %[3]s o
		JOIN (SELECT %[4]s, max(ts) AS ts FROM %[3]s WHERE %[5]s GROUP BY %[4]s) m ON %[6]s AND o.ts = m.ts
		WHERE true ORDER BY %[1]s, o.ts, o.cts`,
		keyList(v, "o."), fieldList(v, "o."), off, keys, where, strings.Join(join, " AND "))
}

// stageKeys puts entity keys into a temporary table the update joins.
func stageKeys(ctx context.Context, tx *sql.Tx, v *ViewInfo, keys []any) error {
	nk := len(v.Entities)
	for _, q := range []string{
		"DROP TABLE IF EXISTS temp.features_touched",
		fmt.Sprintf("CREATE TEMP TABLE features_touched(%s)", keyList(v, "")),
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("stage entity keys of %s: %w", v.Name, err)
		}
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", nk), ",") + ")"
	const per = 500
	for len(keys) > 0 {
		n := min(per, len(keys)/nk)
		q := "INSERT INTO temp.features_touched VALUES " + strings.TrimSuffix(strings.Repeat(tuple+",", n), ",")
		if _, err := tx.ExecContext(ctx, q, keys[:n*nk]...); err != nil {
			return fmt.Errorf("stage entity keys of %s: %w", v.Name, err)
		}
		keys = keys[n*nk:]
	}
	return nil
}
