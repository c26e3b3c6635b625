package usage

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"creditd/internal/testdb"
)

func TestDatabaseRefusesToChangeTheLog(t *testing.T) {
	pool := testdb.Pool(t)
	r := startRecorder(t, pool, RecorderOptions{})
	recordN(t, r, "TAX", 3)
	if err := newSequencer(pool, keySet(t), later).SealOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	partition := "usage_events_" + time.Now().UTC().Format("200601")
	for _, stmt := range []string{
		`UPDATE usage_events SET item = 'other'`,
		`DELETE FROM usage_events`,
		`TRUNCATE usage_events`,
		`UPDATE ` + partition + ` SET item = 'other'`,
		`DELETE FROM ` + partition,
		`TRUNCATE ` + partition,
		`UPDATE usage_chain SET hash = sha256(hash)`,
		`DELETE FROM usage_chain`,
		`TRUNCATE usage_chain`,
		`UPDATE usage_checkpoints SET jws = ''`,
		`DELETE FROM usage_checkpoints`,
		`TRUNCATE usage_checkpoints`,
	} {
		if _, err := pool.Exec(t.Context(), stmt); err == nil {
			t.Errorf("%s: accepted", stmt)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_events WHERE item LIKE 'TAX.item%'`); n != 3 {
		t.Fatalf("%d events left intact, want 3", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_chain`); n != 3 {
		t.Fatalf("%d chain rows left, want 3", n)
	}
}

func partitions(t *testing.T, db Querier) map[string]bool {
	t.Helper()
	rows, err := db.Query(t.Context(), `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'usage_events'::regclass AND c.relkind = 'r'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		out[name] = true
	}
	return out
}

func TestPartitionsExistAhead(t *testing.T) {
	pool := testdb.Pool(t)
	month := monthOf(time.Now())
	have := partitions(t, pool)
	for m := -2; m <= 3; m++ {
		if name := "usage_events_" + month.AddDate(0, m, 0).Format("200601"); !have[name] {
			t.Errorf("migration did not create %s (have %v)", name, have)
		}
	}

	far := month.AddDate(2, 0, 0)
	for range 2 { // idempotent; the session's time zone does not move the bounds
		err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(t.Context(), `SET LOCAL TIME ZONE 'America/New_York'`); err != nil {
				return err
			}
			return EnsurePartitions(t.Context(), tx, far, 2)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	have = partitions(t, pool)
	for m := 0; m <= 2; m++ {
		if name := "usage_events_" + far.AddDate(0, m, 0).Format("200601"); !have[name] {
			t.Errorf("EnsurePartitions did not create %s", name)
		}
	}
	if n := len(have); n != 9 {
		t.Errorf("%d partitions, want 9", n)
	}
	// Bounds are whole UTC months.
	var bound string
	err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(t.Context(), `SET LOCAL TIME ZONE 'UTC'`); err != nil {
			return err
		}
		return tx.QueryRow(t.Context(), `SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = $1`,
			"usage_events_"+far.Format("200601")).Scan(&bound)
	})
	if err != nil {
		t.Fatal(err)
	}
	next := far.AddDate(0, 1, 0)
	if want := "FOR VALUES FROM ('" + far.Format("2006-01-02") + " 00:00:00+00') TO ('" + next.Format("2006-01-02") + " 00:00:00+00')"; bound != want {
		t.Fatalf("bound %s, want %s", bound, want)
	}

	// The recorder creates the partition of a month it has not seen, here far in the future.
	at := far.AddDate(0, 5, 0).Add(time.Hour)
	r := startRecorder(t, pool, RecorderOptions{Now: fixedClock(at)})
	recordN(t, r, "TAX", 1)
	if !partitions(t, pool)["usage_events_"+at.Format("200601")] {
		t.Fatal("the recorder did not create the partition it needed")
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_events WHERE at = $1`, at); n != 1 {
		t.Fatalf("%d events in the new partition, want 1", n)
	}
	if _, err := pool.Exec(t.Context(), `TRUNCATE usage_events_`+at.Format("200601")); err == nil {
		t.Fatal("a partition made later can be truncated")
	}
}
