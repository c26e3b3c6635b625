package usage

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"creditd/internal/apperr"
)

// Headers of a webhook delivery.
const (
	SignatureHeader = "X-Creditd-Signature" // sha256=<hex HMAC-SHA256(secret, body)>
	DeliveryHeader  = "X-Creditd-Delivery"  // the delivery's id; the same on every retry
)

// WebhookBatch is the JSON body pushed to a provider's webhook: one sealed batch of usage of its
// items. Deliveries are at least once: receivers de-duplicate on batchId or the events' ids.
type WebhookBatch struct {
	Provider   string         `json:"provider"`
	BatchID    string         `json:"batchId"`
	Checkpoint Checkpoint     `json:"checkpoint"` // the provider's chain once this batch was sealed
	Events     []WebhookEvent `json:"events"`
}

// WebhookEvent is one usage event in a WebhookBatch.
type WebhookEvent struct {
	ID          string    `json:"id"`
	At          time.Time `json:"at"`
	Institution string    `json:"institution"`
	Item        string    `json:"item"`
	Action      Action    `json:"action"`
	Purpose     *string   `json:"purpose"`
	Grant       *string   `json:"grant"`
	RecordCount int       `json:"recordCount"`
}

// Webhook is a provider's registered webhook (its secret is never read back).
type Webhook struct {
	Provider  string
	URL       string
	CreatedAt time.Time
	UpdatedAt time.Time
}

const maxURL = 2048

// RegisterWebhook sets provider's webhook URL (http or https) and returns a new signing secret,
// which is shown only this once; registering again rotates the secret. A bad URL is BAD_INPUT.
func RegisterWebhook(ctx context.Context, db Querier, provider, rawURL string) (string, error) {
	if provider == "" {
		return "", errors.New("register webhook: empty provider")
	}
	if err := checkURL(rawURL); err != nil {
		return "", err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	secret := hex.EncodeToString(b[:])
	_, err := db.Exec(ctx, `
		INSERT INTO usage_webhooks (provider, url, secret) VALUES ($1, $2, $3)
		ON CONFLICT (provider) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret, updated_at = now()`,
		provider, rawURL, secret)
	if err != nil {
		return "", fmt.Errorf("register webhook of %s: %w", provider, err)
	}
	return secret, nil
}

func checkURL(raw string) error {
	bad := func(rule string) error { return apperr.New(apperr.BadInput, "url: %s", rule).With("field", "url") }
	if len(raw) > maxURL {
		return bad(fmt.Sprintf("at most %d characters", maxURL))
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || raw != strings.TrimSpace(raw):
		return bad("not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("must be an absolute http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return bad("must name a host")
	case u.User != nil:
		return bad("must not contain credentials")
	case u.Fragment != "":
		return bad("must not contain a fragment")
	}
	return nil
}

// DeleteWebhook removes provider's webhook and drops its undelivered batches. It reports whether
// a webhook was registered.
func DeleteWebhook(ctx context.Context, db Querier, provider string) (bool, error) {
	tag, err := db.Exec(ctx, `
		WITH pending AS (DELETE FROM usage_deliveries WHERE provider = $1 AND delivered_at IS NULL)
		DELETE FROM usage_webhooks WHERE provider = $1`, provider)
	if err != nil {
		return false, fmt.Errorf("delete webhook of %s: %w", provider, err)
	}
	return tag.RowsAffected() > 0, nil
}

// GetWebhook returns provider's webhook; false when none is registered.
func GetWebhook(ctx context.Context, db Querier, provider string) (Webhook, bool, error) {
	w := Webhook{Provider: provider}
	err := db.QueryRow(ctx, `SELECT url, created_at, updated_at FROM usage_webhooks WHERE provider = $1`, provider).
		Scan(&w.URL, &w.CreatedAt, &w.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Webhook{}, false, nil
	}
	if err != nil {
		return Webhook{}, false, fmt.Errorf("webhook of %s: %w", provider, err)
	}
	return w, true, nil
}

// Signature returns the X-Creditd-Signature value of body under secret.
func Signature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether header is a valid X-Creditd-Signature of body under secret.
// Receivers should call it on the raw body before decoding it.
func VerifySignature(secret string, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	mac, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(mac, m.Sum(nil))
}
