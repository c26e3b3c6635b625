package usage

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"creditd/internal/apperr"
	"creditd/internal/testdb"
)

func TestRegisterWebhook(t *testing.T) {
	pool := testdb.Pool(t)
	for _, bad := range []string{"", "ftp://example.com/x", "example.com/hook", "/hook", "http://", "https://user:pw@example.com/",
		"https://example.com/#frag", " https://example.com/", "https://example.com/" + string(make([]byte, 2100))} {
		if _, err := RegisterWebhook(t.Context(), pool, "TAX", bad); apperr.CodeOf(err) != apperr.BadInput {
			t.Errorf("RegisterWebhook(%.40q) = %v, want BAD_INPUT", bad, err)
		}
	}
	s1, err := RegisterWebhook(t.Context(), pool, "TAX", "https://tax.example.com/usage")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := RegisterWebhook(t.Context(), pool, "TAX", "http://tax.example.com:8080/v2/usage?x=1")
	if err != nil {
		t.Fatal(err)
	}
	if len(s1) != 64 || len(s2) != 64 || s1 == s2 {
		t.Fatalf("secrets %q, %q: want two different 32-byte hex secrets", s1, s2)
	}
	w, ok, err := GetWebhook(t.Context(), pool, "TAX")
	if err != nil || !ok || w.URL != "http://tax.example.com:8080/v2/usage?x=1" {
		t.Fatalf("GetWebhook = %+v, %v, %v", w, ok, err)
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_webhooks WHERE secret = $1`, s2); n != 1 {
		t.Fatal("the rotated secret is not the one in use")
	}
	for i, want := range []bool{true, false} {
		if got, err := DeleteWebhook(t.Context(), pool, "TAX"); err != nil || got != want {
			t.Fatalf("DeleteWebhook #%d = %v, %v; want %v", i+1, got, err, want)
		}
	}
	if _, ok, _ := GetWebhook(t.Context(), pool, "TAX"); ok {
		t.Fatal("webhook still registered after delete")
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"provider":"TAX"}`)
	good := Signature("s3cret", body)
	tests := []struct {
		name, secret, header string
		body                 []byte
		want                 bool
	}{
		{"valid", "s3cret", good, body, true},
		{"wrong secret", "other", good, body, false},
		{"altered body", "s3cret", good, []byte(`{"provider":"TAX "}`), false},
		{"no prefix", "s3cret", good[len("sha256="):], body, false},
		{"not hex", "s3cret", "sha256=zz", body, false},
		{"empty", "s3cret", "", body, false},
	}
	for _, tt := range tests {
		if got := VerifySignature(tt.secret, tt.body, tt.header); got != tt.want {
			t.Errorf("%s: VerifySignature = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// receiver is a provider's webhook endpoint that fails its first failures requests.
type receiver struct {
	mu       sync.Mutex
	secret   string
	failures int
	calls    int
	badSig   int
	batches  []WebhookBatch
	delivery []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.calls++
	if rc.calls <= rc.failures {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	if r.Header.Get("Content-Type") != "application/json" || !VerifySignature(rc.secret, body, r.Header.Get(SignatureHeader)) {
		rc.badSig++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var b WebhookBatch
	if err := json.Unmarshal(body, &b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.batches = append(rc.batches, b)
	rc.delivery = append(rc.delivery, r.Header.Get(DeliveryHeader))
	w.WriteHeader(http.StatusNoContent)
}

func TestWebhookGetsEveryBatchAfterFailures(t *testing.T) {
	pool := testdb.Pool(t)
	ks := keySet(t)
	rc := &receiver{failures: 3}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	secret, err := RegisterWebhook(t.Context(), pool, "TAX", srv.URL+"/usage")
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	rc.secret = secret
	rc.mu.Unlock()

	r := startRecorder(t, pool, RecorderOptions{})
	seq := newSequencer(pool, ks, later)
	sent := map[string]Event{}
	for range 3 { // three sealed batches: three deliveries, in order
		for _, e := range append(recordN(t, r, "TAX", 4), recordN(t, r, "MARKET", 2)...) {
			sent[e.ID] = e
		}
		if err := seq.SealOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_deliveries`); n != 3 {
		t.Fatalf("%d outbox rows, want 3 (MARKET has no webhook)", n)
	}

	// The sequencer's clock runs a minute ahead (see later): so does the deliverer's.
	d := NewDeliverer(pool, DelivererOptions{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Now: later, Logger: quiet})
	deadline := time.Now().Add(10 * time.Second)
	for count(t, pool, `SELECT count(*) FROM usage_deliveries WHERE delivered_at IS NULL`) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("deliveries not done within 10s")
		}
		if _, err := d.DeliverOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.badSig != 0 || len(rc.batches) != 3 || rc.calls != 6 {
		t.Fatalf("receiver: %d calls, %d bad signatures, %d batches; want 6 calls, 0, 3", rc.calls, rc.badSig, len(rc.batches))
	}
	got := map[string]bool{}
	var lastSize int64
	for i, b := range rc.batches {
		if b.Provider != "TAX" || b.BatchID != rc.delivery[i] || len(b.Events) != 4 {
			t.Fatalf("batch %d: provider %s, id %s (header %s), %d events", i, b.Provider, b.BatchID, rc.delivery[i], len(b.Events))
		}
		if b.Checkpoint.Size != lastSize+4 {
			t.Fatalf("batch %d: checkpoint size %d after %d: batches out of order", i, b.Checkpoint.Size, lastSize)
		}
		lastSize = b.Checkpoint.Size
		if _, err := VerifyCheckpoint(ks, b.Checkpoint.Signature); err != nil {
			t.Fatalf("batch %d: checkpoint does not verify: %v", i, err)
		}
		for _, e := range b.Events {
			want, ok := sent[e.ID]
			if !ok || got[e.ID] {
				t.Fatalf("event %s unknown or pushed twice", e.ID)
			}
			got[e.ID] = true
			if !e.At.Equal(want.At) || e.Institution != want.Institution || e.Item != want.Item || e.Action != want.Action ||
				e.Purpose == nil || *e.Purpose != want.Purpose || e.Grant != nil || e.RecordCount != want.RecordCount {
				t.Fatalf("pushed %+v, recorded %+v", e, want)
			}
		}
	}
	if len(got) != 12 {
		t.Fatalf("%d TAX events pushed, want 12", len(got))
	}
	var attempts int
	var lastErr *string
	if err := pool.QueryRow(t.Context(), `SELECT attempts, last_error FROM usage_deliveries ORDER BY id LIMIT 1`).Scan(&attempts, &lastErr); err != nil {
		t.Fatal(err)
	}
	if attempts != 4 || lastErr != nil {
		t.Fatalf("first delivery: %d attempts, last error %v; want 4 and none", attempts, lastErr)
	}
}

func TestDelivererBacksOffAndKeepsRetrying(t *testing.T) {
	pool := testdb.Pool(t)
	rc := &receiver{failures: 1 << 30}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	if _, err := RegisterWebhook(t.Context(), pool, "TAX", srv.URL); err != nil {
		t.Fatal(err)
	}
	r := startRecorder(t, pool, RecorderOptions{})
	recordN(t, r, "TAX", 2)
	if err := newSequencer(pool, keySet(t), later).SealOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := later()
	clock := func() time.Time { return now }
	d := NewDeliverer(pool, DelivererOptions{BaseBackoff: time.Minute, MaxBackoff: 4 * time.Minute, Now: clock, Logger: quiet})
	for attempt, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		n, err := d.DeliverOnce(t.Context())
		if err != nil || n != 1 {
			t.Fatalf("attempt %d: DeliverOnce = %d, %v", attempt+1, n, err)
		}
		if n, _ := d.DeliverOnce(t.Context()); n != 0 {
			t.Fatalf("attempt %d: retried before its backoff", attempt+1)
		}
		var next time.Time
		var lastErr string
		if err := pool.QueryRow(t.Context(), `SELECT next_attempt_at, last_error FROM usage_deliveries`).Scan(&next, &lastErr); err != nil {
			t.Fatal(err)
		}
		if wait := next.Sub(now); wait < want/2 || wait > want {
			t.Fatalf("attempt %d: next attempt in %v, want within [%v, %v]", attempt+1, wait, want/2, want)
		}
		if lastErr != "receiver answered HTTP 500" {
			t.Fatalf("last error %q", lastErr)
		}
		now = next
	}
	// Deleting the webhook drops what is still undelivered.
	if _, err := DeleteWebhook(t.Context(), pool, "TAX"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_deliveries`); n != 0 {
		t.Fatalf("%d deliveries left after the webhook was deleted", n)
	}
}

func TestConcurrentDeliverersDeliverEachBatchOnceInOrder(t *testing.T) {
	pool := testdb.Pool(t)
	ks := keySet(t)
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	secret, err := RegisterWebhook(t.Context(), pool, "TAX", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rc.secret = secret
	r := startRecorder(t, pool, RecorderOptions{})
	seq := newSequencer(pool, ks, later)
	for range 5 {
		recordN(t, r, "TAX", 2)
		if err := seq.SealOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 2 {
		d := NewDeliverer(pool, DelivererOptions{Interval: time.Millisecond, Now: later, Logger: quiet})
		wg.Go(func() {
			if err := d.Run(ctx); err != nil {
				t.Errorf("Run = %v", err)
			}
		})
	}
	waitFor(t, func() bool {
		return count(t, pool, `SELECT count(*) FROM usage_deliveries WHERE delivered_at IS NULL`) == 0
	})
	cancel()
	wg.Wait()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.calls != 5 || len(rc.batches) != 5 {
		t.Fatalf("%d calls, %d batches; want each of the 5 batches once", rc.calls, len(rc.batches))
	}
	for i, b := range rc.batches {
		if b.Checkpoint.Size != int64(2*(i+1)) {
			t.Fatalf("batch %d has checkpoint size %d: out of order", i, b.Checkpoint.Size)
		}
	}
}
