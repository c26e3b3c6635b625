package usage

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ProblemKind classifies what verification found wrong.
type ProblemKind string

const (
	Altered       ProblemKind = "ALTERED"        // an event differs from what was sealed
	Removed       ProblemKind = "REMOVED"        // the chain names an event that no longer exists
	ChainBroken   ProblemKind = "CHAIN_BROKEN"   // chain rows missing, reordered or inserted
	Unsealed      ProblemKind = "UNSEALED"       // an event that should have been sealed is not (inserted afterwards)
	BadCheckpoint ProblemKind = "BAD_CHECKPOINT" // a checkpoint's signature or claims do not hold
	HeadMismatch  ProblemKind = "HEAD_MISMATCH"  // a signed head differs from the chain recomputed from the events
)

// Problem is the first thing wrong with a provider's chain.
type Problem struct {
	Kind    ProblemKind
	Seq     int64  // position in the chain, or the checkpoint's size; 0 when not applicable
	EventID string // the event concerned, if any
	Detail  string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(string(p.Kind))
	if p.EventID != "" {
		fmt.Fprintf(&b, " event %s", p.EventID)
	}
	if p.Seq > 0 {
		fmt.Fprintf(&b, " at seq %d", p.Seq)
	}
	b.WriteString(": " + p.Detail)
	return b.String()
}

// ProviderChain is the verification of one provider's chain.
type ProviderChain struct {
	Provider    string
	Size        int64    // chain rows verified
	Checkpoints int      // checkpoints verified
	Problem     *Problem // the first problem; nil when the chain is sound
}

// ChainReport is the outcome of VerifyChain, by provider.
type ChainReport struct {
	Providers []ProviderChain
}

// OK reports whether every chain is sound.
func (r ChainReport) OK() bool {
	for _, p := range r.Providers {
		if p.Problem != nil {
			return false
		}
	}
	return true
}

// String is one line per provider, for `creditd usage verify`.
func (r ChainReport) String() string {
	if len(r.Providers) == 0 {
		return "no usage has been sealed yet\n"
	}
	var b strings.Builder
	for _, p := range r.Providers {
		if p.Problem == nil {
			fmt.Fprintf(&b, "%s: ok (%d events, %d checkpoints)\n", p.Provider, p.Size, p.Checkpoints)
		} else {
			fmt.Fprintf(&b, "%s: %s\n", p.Provider, p.Problem)
		}
	}
	return b.String()
}

// VerifyChain recomputes every provider's chain from the stored events, checks each link and
// each checkpoint (signature by keys, claims, head), and looks for events that should have been
// sealed but are not. The report names the first problem per provider; the error is only for
// failures to read. It streams each chain and its checkpoints on two connections of pool.
func VerifyChain(ctx context.Context, pool *pgxpool.Pool, keys Verifier) (ChainReport, error) {
	unsealed, err := firstUnsealed(ctx, pool)
	if err != nil {
		return ChainReport{}, err
	}
	rows, err := pool.Query(ctx, `SELECT DISTINCT provider FROM usage_chain UNION SELECT DISTINCT provider FROM usage_checkpoints ORDER BY 1`)
	if err != nil {
		return ChainReport{}, fmt.Errorf("list usage chains: %w", err)
	}
	providers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return ChainReport{}, fmt.Errorf("list usage chains: %w", err)
	}
	for p := range unsealed {
		if !slices.Contains(providers, p) {
			providers = append(providers, p)
		}
	}
	slices.Sort(providers)
	var r ChainReport
	for _, p := range providers {
		pr, err := verifyProvider(ctx, pool, keys, p)
		if err != nil {
			return ChainReport{}, err
		}
		if pr.Problem == nil {
			if id, ok := unsealed[p]; ok {
				pr.Problem = &Problem{Kind: Unsealed, EventID: id,
					Detail: "the event is older than what was sealed but is not in the chain: it was inserted afterwards"}
			}
		}
		r.Providers = append(r.Providers, pr)
	}
	return r, nil
}

// firstUnsealed returns, per provider, the oldest event that is not in the chain although every
// event of its time has been sealed.
func firstUnsealed(ctx context.Context, pool *pgxpool.Pool) (map[string]string, error) {
	var before time.Time
	err := pool.QueryRow(ctx, `SELECT complete_before FROM usage_seal_state`).Scan(&before)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read seal state: %w", err)
	}
	rows, err := pool.Query(ctx, `
		SELECT DISTINCT ON (provider) provider, id FROM usage_events e
		WHERE at < $1 AND NOT EXISTS (SELECT 1 FROM usage_chain c WHERE c.provider = e.provider AND c.event_id = e.id)
		ORDER BY provider, at, id`, before)
	if err != nil {
		return nil, fmt.Errorf("find unsealed usage events: %w", err)
	}
	out := map[string]string{}
	var p, id string
	_, err = pgx.ForEachRow(rows, []any{&p, &id}, func() error { out[p] = id; return nil })
	if err != nil {
		return nil, fmt.Errorf("find unsealed usage events: %w", err)
	}
	return out, nil
}

// storedCheckpoint is a row of usage_checkpoints.
type storedCheckpoint struct {
	size int64
	head []byte
	at   time.Time
	jws  string
}

// check compares a checkpoint with the chain recomputed up to its size.
func (c storedCheckpoint) check(keys Verifier, provider string, computed []byte) *Problem {
	bad := func(kind ProblemKind, format string, args ...any) *Problem {
		return &Problem{Kind: kind, Seq: c.size, Detail: "checkpoint: " + fmt.Sprintf(format, args...)}
	}
	claims, err := VerifyCheckpoint(keys, c.jws)
	if err != nil {
		return bad(BadCheckpoint, "signature does not verify: %v", err)
	}
	switch {
	case claims.Provider != provider, claims.Size != c.size, claims.Head != hex.EncodeToString(c.head), !claims.At.Equal(c.at):
		return bad(BadCheckpoint, "the stored row differs from its signed claims")
	case claims.Head != hex.EncodeToString(computed):
		return bad(HeadMismatch, "the signed head differs from the chain recomputed from the events: events sealed up to here were altered or re-chained")
	}
	return nil
}

// verifyProvider walks one provider's chain in order, with its checkpoints alongside.
func verifyProvider(ctx context.Context, pool *pgxpool.Pool, keys Verifier, provider string) (ProviderChain, error) {
	r := ProviderChain{Provider: provider}
	cps, err := pool.Query(ctx, `SELECT size, head, at, jws FROM usage_checkpoints WHERE provider = $1 ORDER BY size`, provider)
	if err != nil {
		return r, fmt.Errorf("read checkpoints of %s: %w", provider, err)
	}
	defer cps.Close()
	var cp *storedCheckpoint
	nextCheckpoint := func() error {
		cp = nil
		if cps.Next() {
			var c storedCheckpoint
			if err := cps.Scan(&c.size, &c.head, &c.at, &c.jws); err != nil {
				return err
			}
			cp = &c
		}
		return cps.Err()
	}
	if err := nextCheckpoint(); err != nil {
		return r, fmt.Errorf("read checkpoints of %s: %w", provider, err)
	}

	chain, err := pool.Query(ctx, chainWithEvents, provider)
	if err != nil {
		return r, fmt.Errorf("read usage chain of %s: %w", provider, err)
	}
	defer chain.Close()
	computed, storedPrev := genesis(), genesis()
	for chain.Next() {
		row, err := scanChainRow(chain)
		if err != nil {
			return r, fmt.Errorf("read usage chain of %s: %w", provider, err)
		}
		p, err := row.check(ctx, pool, provider, r.Size+1, storedPrev, &computed)
		if err != nil {
			return r, err
		}
		if p != nil {
			r.Problem = p
			return r, nil
		}
		storedPrev, r.Size = row.hash, row.seq
		for cp != nil && cp.size == r.Size {
			if p := cp.check(keys, provider, computed); p != nil {
				r.Problem = p
				return r, nil
			}
			r.Checkpoints++
			if err := nextCheckpoint(); err != nil {
				return r, fmt.Errorf("read checkpoints of %s: %w", provider, err)
			}
		}
	}
	if err := chain.Err(); err != nil {
		return r, fmt.Errorf("read usage chain of %s: %w", provider, err)
	}
	if cp != nil {
		r.Problem = &Problem{Kind: ChainBroken, Seq: cp.size,
			Detail: fmt.Sprintf("a checkpoint covers %d events but the chain ends at %d: chain rows were removed", cp.size, r.Size)}
	}
	return r, nil
}

const chainWithEvents = `
SELECT c.seq, c.event_id, c.hash, c.prev_hash,
       e.id, e.at, e.institution, e.actor, e.uscc, e.item, e.provider, e.action, e.purpose, e.grant_id, e.record_count, e.request_id
FROM usage_chain c
LEFT JOIN usage_events e ON e.id = c.event_id AND e.at = c.event_at
WHERE c.provider = $1
ORDER BY c.seq`

type chainRow struct {
	seq         int64
	eventID     string
	hash, prev  []byte
	event       Event
	eventExists bool
}

func scanChainRow(rows pgx.Rows) (chainRow, error) {
	var (
		c                                                chainRow
		id, inst, actor, uscc, item, prov, action, reqID *string
		purpose, grant                                   *string
		at                                               *time.Time
		count                                            *int
	)
	if err := rows.Scan(&c.seq, &c.eventID, &c.hash, &c.prev, &id, &at, &inst, &actor, &uscc, &item, &prov, &action,
		&purpose, &grant, &count, &reqID); err != nil {
		return c, err
	}
	if id == nil {
		return c, nil
	}
	c.eventExists = true
	c.event = Event{ID: *id, At: *at, Institution: *inst, Actor: *actor, USCC: *uscc, Item: *item, Provider: *prov,
		Action: Action(*action), RecordCount: *count, RequestID: *reqID}
	if purpose != nil {
		c.event.Purpose = *purpose
	}
	if grant != nil {
		c.event.GrantID = *grant
	}
	return c, nil
}

// check verifies one chain row: its position, its link to the previous row, its event, and the
// recomputed hash, which it advances.
func (c chainRow) check(ctx context.Context, db Querier, provider string, want int64, storedPrev []byte, computed *[]byte) (*Problem, error) {
	switch {
	case c.seq != want:
		return &Problem{Kind: ChainBroken, Seq: want, Detail: fmt.Sprintf("chain row %d is missing (the next row is %d)", want, c.seq)}, nil
	case !bytes.Equal(c.prev, storedPrev):
		return &Problem{Kind: ChainBroken, Seq: c.seq, EventID: c.eventID,
			Detail: "the chain row does not follow the previous one: rows were reordered or inserted"}, nil
	case !c.eventExists:
		// Not at its sealed time: moved (altered) or gone (removed)?
		var moved bool
		if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM usage_events WHERE id = $1)`, c.eventID).Scan(&moved); err != nil {
			return nil, fmt.Errorf("look up usage event %s: %w", c.eventID, err)
		}
		if moved {
			return &Problem{Kind: Altered, Seq: c.seq, EventID: c.eventID, Detail: "the event's time differs from what was sealed"}, nil
		}
		return &Problem{Kind: Removed, Seq: c.seq, EventID: c.eventID, Detail: "the chain names an event that no longer exists"}, nil
	}
	*computed = link(*computed, c.event)
	if c.event.Provider != provider || !bytes.Equal(*computed, c.hash) {
		return &Problem{Kind: Altered, Seq: c.seq, EventID: c.eventID, Detail: "the event differs from what was sealed"}, nil
	}
	return nil, nil
}
