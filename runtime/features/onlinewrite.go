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
	where := ""
	if keys != nil {
		if err := stageKeys(ctx, tx, v, keys); err != nil {
			return 0, err
		}
		defer tx.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS temp.features_touched")
		where = fmt.Sprintf(" WHERE (%s) IN (SELECT %s FROM temp.features_touched)", keyList(v, ""), keyList(v, ""))
	}
	on := onlineTable(v.Name)
	join := make([]string, len(v.Entities))
	for i := range v.Entities {
		join[i] = fmt.Sprintf("o.%s = m.%s", keyCol(i), keyCol(i))
	}
	cts, order := "0", ""
	if v.Source.CreatedTimestamp != "" {
		// Several rows share an entity's newest event time; inserted in
		// creation order, the last created wins.
		cts, order = "o.cts", fmt.Sprintf(" ORDER BY %s, o.ts, o.cts", keyList(v, "o."))
	}
	sets := []string{"ts = excluded.ts", "cts = excluded.cts"}
	for _, f := range v.Fields {
		sets = append(sets, fmt.Sprintf("%s = excluded.%s", fieldCol(f.Name), fieldCol(f.Name)))
	}
	q := fmt.Sprintf(`INSERT INTO %[1]s(%[2]s, ts, cts, %[3]s)
		SELECT %[4]s, o.ts, %[5]s, %[6]s FROM %[7]s o
		JOIN (SELECT %[2]s, max(ts) AS ts FROM %[7]s%[8]s GROUP BY %[2]s) m ON %[9]s AND o.ts = m.ts
		WHERE true%[10]s
		ON CONFLICT(%[2]s) DO UPDATE SET %[11]s
		WHERE excluded.ts > %[1]s.ts OR (excluded.ts = %[1]s.ts AND excluded.cts >= %[1]s.cts)`,
		on, keyList(v, ""), fieldList(v, ""), keyList(v, "o."), cts, fieldList(v, "o."),
		offlineTable(v.Name), where, strings.Join(join, " AND "), order, strings.Join(sets, ", "))
	r, err := tx.ExecContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("update online table of %s: %w", v.Name, err)
	}
	n, _ := r.RowsAffected()
	return n, nil
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
