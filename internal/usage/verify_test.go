package usage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/auth"
	"creditd/internal/testdb"
)

// tamper runs statements with the append-only triggers disabled, as an intruder with database
// access would.
func tamper(t *testing.T, pool *pgxpool.Pool, f func(tx pgx.Tx) error) {
	t.Helper()
	err := pgx.BeginFunc(t.Context(), pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(t.Context(), `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		return f(tx)
	})
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

func sql(q string, args ...any) func(tx pgx.Tx) error {
	return func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), q, args...)
		return err
	}
}

func TestVerifyChainNamesTheFirstProblem(t *testing.T) {
	pool := testdb.Pool(t)
	ks := keySet(t)
	r := startRecorder(t, pool, RecorderOptions{})
	tests := []struct {
		provider string
		tamper   func(t *testing.T, events []Event)
		kind     ProblemKind
		event    int // index of the event named; -1: none
		seq      int64
	}{
		{"P-OK", func(*testing.T, []Event) {}, "", -1, 0},
		{"P-ALTER", func(t *testing.T, e []Event) {
			tamper(t, pool, sql(`UPDATE usage_events SET institution = 'OTHER-BANK' WHERE id = $1`, e[2].ID))
		}, Altered, 2, 3},
		{"P-PURPOSE", func(t *testing.T, e []Event) {
			tamper(t, pool, sql(`UPDATE usage_events SET purpose = NULL WHERE id = $1`, e[1].ID))
		}, Altered, 1, 2},
		{"P-TIME", func(t *testing.T, e []Event) {
			tamper(t, pool, sql(`UPDATE usage_events SET at = at - interval '1 second' WHERE id = $1`, e[3].ID))
		}, Altered, 3, 4},
		{"P-REMOVE", func(t *testing.T, e []Event) {
			tamper(t, pool, sql(`DELETE FROM usage_events WHERE id = $1`, e[1].ID))
		}, Removed, 1, 2},
		{"P-REORDER", func(t *testing.T, e []Event) {
			tamper(t, pool, func(tx pgx.Tx) error {
				for _, q := range []string{`UPDATE usage_chain SET seq = 100 WHERE provider = 'P-REORDER' AND seq = 2`,
					`UPDATE usage_chain SET seq = 2 WHERE provider = 'P-REORDER' AND seq = 3`,
					`UPDATE usage_chain SET seq = 3 WHERE provider = 'P-REORDER' AND seq = 100`} {
					if err := sql(q)(tx); err != nil {
						return err
					}
				}
				return nil
			})
		}, ChainBroken, 2, 2},
		{"P-GAP", func(t *testing.T, e []Event) {
			tamper(t, pool, sql(`DELETE FROM usage_chain WHERE provider = 'P-GAP' AND seq = 2`))
		}, ChainBroken, -1, 2},
		{"P-TRUNCATE", func(t *testing.T, e []Event) {
			tamper(t, pool, sql(`DELETE FROM usage_chain WHERE provider = 'P-TRUNCATE' AND seq = 4`))
		}, ChainBroken, -1, 4},
		{"P-SIGNATURE", func(t *testing.T, e []Event) {
			tamper(t, pool, sql(`UPDATE usage_checkpoints SET jws = left(jws, -4) || 'AAAA' WHERE provider = 'P-SIGNATURE'`))
		}, BadCheckpoint, -1, 4},
		{"P-HEAD", func(t *testing.T, e []Event) {
			tamper(t, pool, sql(`UPDATE usage_checkpoints SET head = sha256(head) WHERE provider = 'P-HEAD'`))
		}, BadCheckpoint, -1, 4},
		{"P-RECHAIN", func(t *testing.T, e []Event) {
			// Alter an event and recompute the stored chain after it: only the signature catches it.
			altered := e[1]
			altered.Institution = "OTHER-BANK"
			tamper(t, pool, func(tx pgx.Tx) error {
				if err := sql(`UPDATE usage_events SET institution = $2 WHERE id = $1`, altered.ID, altered.Institution)(tx); err != nil {
					return err
				}
				var prev []byte
				if err := tx.QueryRow(t.Context(), `SELECT hash FROM usage_chain WHERE provider = 'P-RECHAIN' AND seq = 1`).Scan(&prev); err != nil {
					return err
				}
				for i, ev := range []Event{altered, e[2], e[3]} {
					h := link(prev, ev)
					if err := sql(`UPDATE usage_chain SET hash = $2, prev_hash = $3 WHERE provider = 'P-RECHAIN' AND seq = $1`, i+2, h, prev)(tx); err != nil {
						return err
					}
					prev = h
				}
				return nil
			})
		}, HeadMismatch, -1, 4},
		{"P-INSERT", func(t *testing.T, e []Event) {
			forged := e[0]
			forged.ID = "0190f0a4-52f3-7c4b-9c1e-8a2f1b3c4d5e"
			forged.At = time.Now().Add(-time.Hour)
			_, err := pool.Exec(t.Context(), `INSERT INTO usage_events (`+eventCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11)`,
				forged.ID, forged.At, forged.Institution, forged.Actor, forged.USCC, forged.Item, forged.Provider, forged.Action, forged.Purpose, forged.RecordCount, forged.RequestID)
			if err != nil {
				t.Fatal(err)
			}
		}, Unsealed, -2, 0},
	}
	events := map[string][]Event{}
	for _, tt := range tests {
		events[tt.provider] = recordN(t, r, tt.provider, 4)
	}
	if err := newSequencer(pool, ks, later).SealOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyChain(t.Context(), pool, ks.Public())
	if err != nil || !rep.OK() {
		t.Fatalf("before tampering: %v\n%s", err, rep)
	}
	for _, tt := range tests {
		tt.tamper(t, events[tt.provider])
	}
	// A later round seals nothing forged, repairs nothing, and refuses to extend the chain that
	// lost rows (the others are sealed as usual).
	if err := newSequencer(pool, ks, later).SealOnce(t.Context()); !errors.Is(err, ErrChainDamaged) || !strings.Contains(err.Error(), "P-TRUNCATE") {
		t.Fatalf("SealOnce after tampering = %v, want ErrChainDamaged for P-TRUNCATE", err)
	}
	rep, err = VerifyChain(t.Context(), pool, ks.Public())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatalf("tampered chains reported sound:\n%s", rep)
	}
	t.Logf("report:\n%s", rep)
	got := map[string]ProviderChain{}
	for _, p := range rep.Providers {
		got[p.Provider] = p
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			p, ok := got[tt.provider]
			if !ok {
				t.Fatal("provider missing from the report")
			}
			if tt.kind == "" {
				if p.Problem != nil || p.Size != 4 || p.Checkpoints != 1 {
					t.Fatalf("untouched chain: %+v", p)
				}
				return
			}
			if p.Problem == nil || p.Problem.Kind != tt.kind || p.Problem.Seq != tt.seq {
				t.Fatalf("problem %+v, want %s at seq %d", p.Problem, tt.kind, tt.seq)
			}
			switch {
			case tt.event >= 0 && p.Problem.EventID != events[tt.provider][tt.event].ID:
				t.Fatalf("problem names event %q, want %s", p.Problem.EventID, events[tt.provider][tt.event].ID)
			case tt.event == -2 && p.Problem.EventID != "0190f0a4-52f3-7c4b-9c1e-8a2f1b3c4d5e":
				t.Fatalf("problem names event %q, want the forged one", p.Problem.EventID)
			}
			if !strings.Contains(rep.String(), tt.provider+": "+string(tt.kind)) {
				t.Fatalf("report text lacks %s: %s", tt.provider, tt.kind)
			}
		})
	}
}

func TestVerifyChainRefusesForeignKeys(t *testing.T) {
	pool := testdb.Pool(t)
	r := startRecorder(t, pool, RecorderOptions{})
	recordN(t, r, "TAX", 3)
	if err := newSequencer(pool, keySet(t), later).SealOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	other, err := auth.ParseJWKS(keySet(t).JWKS())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyChain(t.Context(), pool, other)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Providers[0].Problem.Kind != BadCheckpoint {
		t.Fatalf("checkpoints signed by another key verified:\n%s", rep)
	}
}

func TestVerifyChainOfAnEmptyLog(t *testing.T) {
	rep, err := VerifyChain(t.Context(), testdb.Pool(t), keySet(t))
	if err != nil || !rep.OK() || len(rep.Providers) != 0 {
		t.Fatalf("VerifyChain = %+v, %v", rep, err)
	}
}
