package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
	"creditd/internal/testdb"
)

// testNow is 10:00 on 15 June 2026 in Asia/Shanghai.
var testNow = time.Date(2026, 6, 15, 10, 0, 0, 0, shanghai)

func newTestLoader(t *testing.T, chunkSize int) (*Loader, *pgxpool.Pool) {
	t.Helper()
	pool := testdb.Pool(t)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	l := NewLoader(pool, cat, Options{
		Now:       func() time.Time { return testNow },
		Logger:    slog.New(slog.DiscardHandler),
		ChunkSize: chunkSize,
	})
	return l, pool
}

// register loads a registration.basic record for each code.
func register(t *testing.T, l *Loader, codes ...string) {
	t.Helper()
	rows := make([]Row, len(codes))
	for i, c := range codes {
		rows[i] = Row{SourceID: "REG-" + c, USCC: c, OccurredOn: "2015-03-01",
			Data: json.RawMessage(fmt.Sprintf(`{"name":"测试企业%d有限公司","region_code":"330106","size":"small"}`, i+1))}
	}
	res, err := l.Submit(context.Background(), "SAMR", Registration, rows)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted+res.Duplicates+res.Updated != len(codes) {
		t.Fatalf("register: %+v", res)
	}
}

func countRecords(t *testing.T, pool *pgxpool.Pool, item string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM records WHERE item = $1`, item).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type storedRecord struct {
	uscc       string
	version    int
	occurredOn string
	endsOn     *string
	data       map[string]any
}

// record reads the stored record of a sourceId; found is false when there is none.
func record(t *testing.T, pool *pgxpool.Pool, provider, item, sourceID string) (storedRecord, bool) {
	t.Helper()
	var r storedRecord
	var raw []byte
	err := pool.QueryRow(context.Background(), `
		SELECT uscc, version, occurred_on::text, ends_on::text, data::text
		FROM records WHERE provider = $1 AND item = $2 AND source_id = $3`, provider, item, sourceID).
		Scan(&r.uscc, &r.version, &r.occurredOn, &r.endsOn, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false
	}
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&r.data); err != nil {
		t.Fatal(err)
	}
	return r, true
}

func mustRecord(t *testing.T, pool *pgxpool.Pool, provider, item, sourceID string) storedRecord {
	t.Helper()
	r, ok := record(t, pool, provider, item, sourceID)
	if !ok {
		t.Fatalf("no record %s/%s/%s", provider, item, sourceID)
	}
	return r
}

// wantBadInput fails unless err is an *apperr.Error BAD_INPUT whose message contains all parts.
func wantBadInput(t *testing.T, err error, parts ...string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.BadInput {
		t.Fatalf("error = %v, want BAD_INPUT", err)
	}
	for _, p := range parts {
		if !strings.Contains(ae.Message, p) {
			t.Fatalf("message %q does not mention %q", ae.Message, p)
		}
	}
}

// checkSum fails unless the counts of res add up to sent.
func checkSum(t *testing.T, res Result, sent int) {
	t.Helper()
	if got := res.Accepted + res.Updated + res.Duplicates + len(res.Rejected); got != sent {
		t.Fatalf("accepted+updated+duplicates+rejected = %d, want %d (%+v)", got, sent, res)
	}
}
