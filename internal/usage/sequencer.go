package usage

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SequencerOptions tune a Sequencer; zero values take the defaults.
type SequencerOptions struct {
	Interval time.Duration // between rounds; at most one minute; default 30s
	// Margin: events younger than this are left for the next round, so that an event committed
	// a little after its time is not skipped. Default 5s.
	Margin time.Duration
	// Lookback: each round also seals still-unsealed events this much older than where the
	// previous round stopped (late commits). It must exceed MaxClockSkew plus the recorder's
	// FlushTimeout. Default 2 minutes.
	Lookback        time.Duration
	BatchSize       int    // events per sealed batch (one checkpoint, one webhook delivery); default 1000
	PartitionsAhead int    // each round ensures the usage partitions this many months ahead; default 3
	Issuer          string // checkpoints' iss; default "creditd"
	Now             func() time.Time
	Logger          *slog.Logger
}

// ErrChainDamaged is wrapped by the sealing error of a provider whose stored chain no longer
// matches its checkpoints; it is not extended until an operator has investigated.
var ErrChainDamaged = errors.New("usage chain damaged")

// Sequencer seals committed usage events into each provider's hash chain and signs a checkpoint
// per sealed batch. Several sequencers (replicas) may run at once: a provider's chain is only
// appended under a transaction-scoped advisory lock.
type Sequencer struct {
	pool   *pgxpool.Pool
	signer Signer
	opts   SequencerOptions
	log    *slog.Logger
}

// NewSequencer returns a sequencer signing checkpoints with signer (*auth.KeySet).
func NewSequencer(pool *pgxpool.Pool, signer Signer, o SequencerOptions) *Sequencer {
	switch {
	case o.Interval <= 0:
		o.Interval = 30 * time.Second
	case o.Interval > time.Minute:
		o.Interval = time.Minute
	}
	if o.Margin <= 0 {
		o.Margin = 5 * time.Second
	}
	if o.Lookback <= 0 {
		o.Lookback = 2 * time.Minute
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.PartitionsAhead <= 0 {
		o.PartitionsAhead = 3
	}
	if o.Issuer == "" {
		o.Issuer = "creditd"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Sequencer{pool: pool, signer: signer, opts: o, log: o.Logger}
}

// Run seals at once and then every Interval until ctx ends. Failed rounds are logged and
// retried at the next tick.
func (s *Sequencer) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		if err := s.SealOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("usage sequencer round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// SealOnce runs one round: it seals, provider by provider, every committed event older than
// now − Margin that is not sealed yet.
func (s *Sequencer) SealOnce(ctx context.Context) error {
	now := s.opts.Now().UTC().Truncate(time.Microsecond)
	if err := EnsurePartitions(ctx, s.pool, now, s.opts.PartitionsAhead); err != nil {
		return err
	}
	cutoff := now.Add(-s.opts.Margin)
	var from time.Time // first round: everything
	err := s.pool.QueryRow(ctx, `SELECT complete_before FROM usage_seal_state`).Scan(&from)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read seal state: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT provider FROM usage_events WHERE at >= $1 AND at < $2 ORDER BY provider`, from, cutoff)
	if err != nil {
		return fmt.Errorf("list providers to seal: %w", err)
	}
	providers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list providers to seal: %w", err)
	}
	// A provider that fails does not hold up the others; the progress is saved only when all
	// were sealed, so that the failed ones are retried over the same window.
	var errs []error
	for _, p := range providers {
		for {
			n, err := s.sealBatch(ctx, p, from, cutoff, now)
			if err != nil {
				errs = append(errs, err)
				break
			}
			if n < s.opts.BatchSize {
				break
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	_, err = s.pool.Exec(ctx, `
		INSERT INTO usage_seal_state (sealed_until, complete_before) VALUES ($1, $2)
		ON CONFLICT (singleton) DO UPDATE SET
			sealed_until = greatest(usage_seal_state.sealed_until, EXCLUDED.sealed_until),
			complete_before = greatest(usage_seal_state.complete_before, EXCLUDED.complete_before)`,
		cutoff, cutoff.Add(-s.opts.Lookback))
	if err != nil {
		return fmt.Errorf("save seal state: %w", err)
	}
	return nil
}

const unsealedEvents = `
SELECT ` + eventCols + ` FROM usage_events e
WHERE provider = $1 AND at >= $2 AND at < $3
  AND NOT EXISTS (SELECT 1 FROM usage_chain c WHERE c.provider = e.provider AND c.event_id = e.id)
ORDER BY at, id
LIMIT $4`

// sealBatch appends up to BatchSize unsealed events of provider to its chain, signs the new head
// and queues the batch for the provider's webhook, in one transaction. It returns the number of
// events sealed.
func (s *Sequencer) sealBatch(ctx context.Context, provider string, from, cutoff, now time.Time) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('creditd.usage_chain.' || $1, 0))`, provider); err != nil {
			return err
		}
		size, head := int64(0), genesis()
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM usage_chain WHERE provider = $1 ORDER BY seq DESC LIMIT 1`, provider).Scan(&size, &head)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var signed int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(size), 0) FROM usage_checkpoints WHERE provider = $1`, provider).Scan(&signed); err != nil {
			return err
		}
		if signed != size {
			return fmt.Errorf("%w: the chain ends at %d but a checkpoint covers %d; run the verification", ErrChainDamaged, size, signed)
		}
		rows, err := tx.Query(ctx, unsealedEvents, provider, from, cutoff, s.opts.BatchSize)
		if err != nil {
			return err
		}
		events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) { return scanEvent(r) })
		if err != nil || len(events) == 0 {
			return err
		}
		n = len(events)
		seqs, ids, ats := make([]int64, n), make([]string, n), make([]time.Time, n)
		hashes, prevs := make([][]byte, n), make([][]byte, n)
		for i, e := range events {
			prevs[i] = head
			head = link(head, e)
			size++
			seqs[i], ids[i], ats[i], hashes[i] = size, e.ID, e.At, head
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO usage_chain (provider, seq, event_id, event_at, hash, prev_hash, sealed_at)
			SELECT $1, * , $7 FROM unnest($2::int8[], $3::uuid[], $4::timestamptz[], $5::bytea[], $6::bytea[])`,
			provider, seqs, ids, ats, hashes, prevs, now); err != nil {
			return err
		}
		cp, err := s.sign(provider, size, head, now)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO usage_checkpoints (provider, size, head, at, jws) VALUES ($1, $2, $3, $4, $5)`,
			provider, size, head, now, cp.Signature); err != nil {
			return err
		}
		return queueDelivery(ctx, tx, provider, cp, events, now)
	})
	if err != nil {
		return 0, fmt.Errorf("seal usage of provider %s: %w", provider, err)
	}
	if n > 0 {
		s.log.Info("usage sealed", "provider", provider, "events", n)
	}
	return n, nil
}

func (s *Sequencer) sign(provider string, size int64, head []byte, at time.Time) (Checkpoint, error) {
	h := hex.EncodeToString(head)
	jws, err := s.signer.Sign(TypeCheckpoint, CheckpointClaims{Provider: provider, Size: size, Head: h, At: at,
		RegisteredClaims: jwt.RegisteredClaims{Issuer: s.opts.Issuer, IssuedAt: jwt.NewNumericDate(at)}})
	if err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Size: size, Head: h, At: at, Signature: jws}, nil
}

// queueDelivery writes one outbox row with the sealed batch when provider has a webhook.
func queueDelivery(ctx context.Context, tx pgx.Tx, provider string, cp Checkpoint, events []Event, now time.Time) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM usage_webhooks WHERE provider = $1)`, provider).Scan(&exists); err != nil || !exists {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	batch := WebhookBatch{Provider: provider, BatchID: id.String(), Checkpoint: cp, Events: make([]WebhookEvent, len(events))}
	for i, e := range events {
		batch.Events[i] = WebhookEvent{ID: e.ID, At: e.At, Institution: e.Institution, Item: e.Item, Action: e.Action,
			Purpose: nullable(e.Purpose), Grant: nullable(e.GrantID), RecordCount: e.RecordCount}
	}
	payload, err := json.Marshal(batch)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO usage_deliveries (provider, id, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $4)`,
		provider, id, payload, now)
	return err
}

// LatestCheckpoint returns provider's newest checkpoint; false when its chain is empty.
func LatestCheckpoint(ctx context.Context, db Querier, provider string) (Checkpoint, bool, error) {
	var (
		cp   Checkpoint
		head []byte
	)
	err := db.QueryRow(ctx, `SELECT size, head, at, jws FROM usage_checkpoints WHERE provider = $1 ORDER BY size DESC LIMIT 1`, provider).
		Scan(&cp.Size, &head, &cp.At, &cp.Signature)
	if errors.Is(err, pgx.ErrNoRows) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("latest usage checkpoint of %s: %w", provider, err)
	}
	cp.Head, cp.At = hex.EncodeToString(head), cp.At.UTC()
	return cp, true, nil
}
