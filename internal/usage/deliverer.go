package usage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DelivererOptions tune a Deliverer; zero values take the defaults.
type DelivererOptions struct {
	HTTPClient     *http.Client  // default: RequestTimeout, redirects not followed
	Interval       time.Duration // between polls of the outbox; default 1s
	BaseBackoff    time.Duration // delay before the first retry; default 1s
	MaxBackoff     time.Duration // cap of the exponential backoff; default 1h
	RequestTimeout time.Duration // bound on one POST; default 10s
	BatchSize      int           // deliveries attempted per round, concurrently; default 16
	Now            func() time.Time
	Logger         *slog.Logger
}

// Deliverer pushes sealed usage batches from the outbox to providers' webhooks, at least once,
// in order per provider, retrying failures with capped exponential backoff and jitter.
type Deliverer struct {
	pool *pgxpool.Pool
	opts DelivererOptions
	log  *slog.Logger
}

// NewDeliverer returns a deliverer reading the outbox in pool.
func NewDeliverer(pool *pgxpool.Pool, o DelivererOptions) *Deliverer {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 10 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.RequestTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	o.BaseBackoff = min(o.BaseBackoff, o.MaxBackoff)
	if o.BatchSize <= 0 {
		o.BatchSize = 16
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Deliverer{pool: pool, opts: o, log: o.Logger}
}

// Run delivers until ctx ends, polling every Interval (at once again after a full round).
func (d *Deliverer) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := d.DeliverOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Error("usage webhook round failed", "err", err)
		}
		if n == d.opts.BatchSize {
			t.Reset(0)
		} else {
			t.Reset(d.opts.Interval)
		}
	}
}

type delivery struct {
	provider, id, url, secret string
	body                      []byte
	attempts                  int
}

// claimDue reserves the due deliveries — for each provider only its oldest undelivered one — for
// a lease, so that other deliverers skip them; an unfinished attempt is retried once it lapses.
const claimDue = `
UPDATE usage_deliveries d SET next_attempt_at = $2
FROM usage_webhooks w
WHERE w.provider = d.provider AND (d.provider, d.id) IN (
	SELECT o.provider, o.id FROM usage_deliveries o
	WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $1
	  AND NOT EXISTS (SELECT 1 FROM usage_deliveries p
	                  WHERE p.provider = o.provider AND p.delivered_at IS NULL AND p.id < o.id)
	ORDER BY o.next_attempt_at
	LIMIT $3
	FOR UPDATE OF o SKIP LOCKED)
RETURNING d.provider, d.id, d.payload::text, d.attempts, w.url, w.secret`

// DeliverOnce attempts the due deliveries (at most BatchSize, concurrently) and returns how many
// it attempted.
func (d *Deliverer) DeliverOnce(ctx context.Context) (int, error) {
	now := d.opts.Now()
	rows, err := d.pool.Query(ctx, claimDue, now, now.Add(5*d.opts.RequestTimeout), d.opts.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("claim usage deliveries: %w", err)
	}
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (delivery, error) {
		var x delivery
		var body string
		err := r.Scan(&x.provider, &x.id, &body, &x.attempts, &x.url, &x.secret)
		x.body = []byte(body)
		return x, err
	})
	if err != nil {
		return 0, fmt.Errorf("claim usage deliveries: %w", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, x := range due {
		wg.Go(func() {
			if err := d.attempt(ctx, x); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(due), errors.Join(errs...)
}

// attempt posts one delivery and records the outcome. It returns only database errors; a
// failed POST is recorded and retried later.
func (d *Deliverer) attempt(ctx context.Context, x delivery) error {
	postErr := d.post(ctx, x)
	if ctx.Err() != nil {
		return nil // shutting down: the lease lapses and the delivery is retried
	}
	now := d.opts.Now()
	var err error
	if postErr == nil {
		_, err = d.pool.Exec(ctx, `UPDATE usage_deliveries SET delivered_at = $3, attempts = attempts + 1, last_error = NULL
			WHERE provider = $1 AND id = $2`, x.provider, x.id, now)
	} else {
		next := now.Add(d.backoff(x.attempts + 1))
		d.log.Warn("usage webhook delivery failed", "provider", x.provider, "delivery", x.id,
			"attempt", x.attempts+1, "retryAt", next, "err", postErr)
		_, err = d.pool.Exec(ctx, `UPDATE usage_deliveries SET attempts = attempts + 1, next_attempt_at = $3, last_error = $4
			WHERE provider = $1 AND id = $2`, x.provider, x.id, next, truncate(postErr.Error(), 500))
	}
	if err != nil {
		return fmt.Errorf("record usage delivery %s: %w", x.id, err)
	}
	return nil
}

// post sends the body signed; any status but 2xx is a failure. Errors never carry the URL or
// the secret.
func (d *Deliverer) post(ctx context.Context, x delivery) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.url, bytes.NewReader(x.body))
	if err != nil {
		return errors.New("webhook URL is unusable")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "creditd-webhook/1")
	req.Header.Set(SignatureHeader, Signature(x.secret, x.body))
	req.Header.Set(DeliveryHeader, x.id)
	resp, err := d.opts.HTTPClient.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// backoff returns the delay before attempt n+1 after n failures: BaseBackoff doubled per
// failure, capped at MaxBackoff, with jitter over its upper half.
func (d *Deliverer) backoff(failures int) time.Duration {
	delay := d.opts.BaseBackoff
	for i := 1; i < failures && delay < d.opts.MaxBackoff; i++ {
		delay *= 2
	}
	delay = min(delay, d.opts.MaxBackoff)
	half := delay / 2
	return half + rand.N(delay-half+1)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
