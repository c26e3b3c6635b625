package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Defaults of Options.
const (
	DefaultTimeout          = 2 * time.Second
	DefaultRetries          = 2
	DefaultBackoff          = 100 * time.Millisecond
	DefaultMaxBackoff       = time.Second
	DefaultBreakerFailures  = 5
	DefaultBreakerCoolDown  = 30 * time.Second
	DefaultMaxResponseBytes = 1 << 20
)

// Endpoint is where a provider is reached.
type Endpoint struct {
	// BaseURL is the provider's base, http or https, without query; the protocol's paths
	// (/v1/items/…) are appended to it.
	BaseURL string
	// Secret is sent as "Authorization: Bearer <Secret>"; empty sends no Authorization header
	// (development only).
	Secret string
}

// String shows the URL and whether a secret is set, never the secret.
func (e Endpoint) String() string {
	if e.Secret == "" {
		return e.BaseURL + " (no secret)"
	}
	return e.BaseURL + " (secret set)"
}

// GoString is String, so that %#v does not print the secret either.
func (e Endpoint) GoString() string { return e.String() }

// LogValue keeps the secret out of structured logs.
func (e Endpoint) LogValue() slog.Value { return slog.StringValue(e.String()) }

// BreakerSettings configure the circuit breaker kept for each provider.
type BreakerSettings struct {
	// Failures is the number of consecutive failed attempts that opens the breaker
	// (default 5).
	Failures uint32
	// CoolDown is how long the breaker stays open before letting trial requests through
	// (half-open); default 30s.
	CoolDown time.Duration
	// HalfOpenRequests is how many trial requests may run while half-open; that many
	// consecutive successes close the breaker, one failure opens it again (default 1).
	HalfOpenRequests uint32
}

// Options configure a Client. Zero values take the defaults.
type Options struct {
	// Providers maps provider codes (as in the catalog: TAX, HF, …) to their endpoints.
	Providers map[string]Endpoint
	// Timeout bounds each HTTP attempt (default 2s). A whole call takes at most
	// (Retries+1)·Timeout plus the backoff delays; a context deadline bounds it further.
	Timeout time.Duration
	// Retries is the number of retries after a first failed attempt: 0 means the default 2,
	// a negative value means none.
	Retries int
	// Backoff is the delay before the first retry (default 100ms); it doubles on each retry
	// up to MaxBackoff (default 1s), each delay drawn within ±50% (jitter).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Breaker configures the per-provider circuit breaker.
	Breaker BreakerSettings
	// MaxResponseBytes refuses larger answers (default 1 MiB).
	MaxResponseBytes int64
	// Logger receives failures and breaker state changes (default: discard).
	Logger *slog.Logger
	// HTTPClient sends the requests; by default a client of its own that follows no redirects.
	// Its Timeout, if any, applies in addition to Timeout.
	HTTPClient *http.Client
}

// Client calls providers. It is safe for concurrent use, starts no goroutines, and keeps no
// data: only each provider's breaker state. Close releases idle connections.
type Client struct {
	providers  map[string]*provider
	http       *http.Client
	timeout    time.Duration
	retries    int
	backoff    time.Duration
	maxBackoff time.Duration
	maxBody    int64
	log        *slog.Logger
}

type provider struct {
	code    string
	base    string // without a trailing slash
	secret  string
	breaker *gobreaker.CircuitBreaker[struct{}]
}

// New validates the options and returns a client.
func New(opts Options) (*Client, error) {
	c := &Client{
		providers:  make(map[string]*provider, len(opts.Providers)),
		http:       opts.HTTPClient,
		timeout:    orDuration(opts.Timeout, DefaultTimeout),
		retries:    opts.Retries,
		backoff:    orDuration(opts.Backoff, DefaultBackoff),
		maxBackoff: orDuration(opts.MaxBackoff, DefaultMaxBackoff),
		maxBody:    opts.MaxResponseBytes,
		log:        opts.Logger,
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultRetries
	case c.retries < 0:
		c.retries = 0
	}
	if c.maxBackoff < c.backoff {
		c.maxBackoff = c.backoff
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.http == nil {
		c.http = &http.Client{
			Transport: http.DefaultTransport.(*http.Transport).Clone(),
			// A provider's answer is the answer: a redirect could carry the secret elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	bs := opts.Breaker
	if bs.Failures == 0 {
		bs.Failures = DefaultBreakerFailures
	}
	if bs.CoolDown <= 0 {
		bs.CoolDown = DefaultBreakerCoolDown
	}
	if bs.HalfOpenRequests == 0 {
		bs.HalfOpenRequests = 1
	}

	codes := make([]string, 0, len(opts.Providers))
	for code := range opts.Providers {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		ep := opts.Providers[code]
		if !providerCodeRE.MatchString(code) {
			return nil, fmt.Errorf("connector: provider code %q must be upper-case letters, digits and _", code)
		}
		base, err := checkBaseURL(ep.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("connector: provider %s: %w", code, err)
		}
		c.providers[code] = &provider{
			code:    code,
			base:    base,
			secret:  ep.Secret,
			breaker: c.newBreaker(code, bs),
		}
	}
	return c, nil
}

func (c *Client) newBreaker(code string, bs BreakerSettings) *gobreaker.CircuitBreaker[struct{}] {
	failures := bs.Failures
	return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        code,
		MaxRequests: bs.HalfOpenRequests,
		Timeout:     bs.CoolDown,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
		// A refusal of ours (4xx) shows the provider is up: it is not the provider's failure.
		IsSuccessful: func(err error) bool {
			var ae *attemptError
			if err == nil {
				return true
			}
			if !errors.As(err, &ae) {
				return false
			}
			switch ae.reason {
			case ReasonRejected, ReasonUnauthorized, ReasonInvalid:
				return true
			}
			return false
		},
		// The caller gave up: that says nothing about the provider.
		IsExcluded: func(err error) bool {
			var ae *attemptError
			return errors.As(err, &ae) && ae.reason == ReasonCanceled
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			level := slog.LevelWarn
			if to == gobreaker.StateClosed {
				level = slog.LevelInfo
			}
			c.log.Log(context.Background(), level, "provider circuit breaker", "provider", name, "from", from.String(), "to", to.String())
		},
	})
}

// checkBaseURL validates a base URL and returns it without a trailing slash.
func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "", errors.New("base URL is empty")
	case err != nil:
		return "", errors.New("base URL is not a valid URL")
	case u.User != nil:
		return "", errors.New("base URL must not carry credentials; use the endpoint's secret")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("base URL %q: scheme must be http or https", raw)
	case u.Host == "":
		return "", fmt.Errorf("base URL %q has no host", raw)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("base URL %q must not have a query or fragment", raw)
	}
	for len(raw) > 0 && raw[len(raw)-1] == '/' {
		raw = raw[:len(raw)-1]
	}
	return raw, nil
}

// Configured reports whether an endpoint is configured for the provider.
func (c *Client) Configured(provider string) bool {
	_, ok := c.providers[provider]
	return ok
}

// Providers returns the configured provider codes, sorted.
func (c *Client) Providers() []string {
	out := make([]string, 0, len(c.providers))
	for code := range c.providers {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

// BreakerState returns the state of the provider's circuit breaker: "closed", "open" or
// "half-open"; "" when the provider is not configured.
func (c *Client) BreakerState(provider string) string {
	p, ok := c.providers[provider]
	if !ok {
		return ""
	}
	return p.breaker.State().String()
}

// Close releases the idle connections of the client's HTTP transport. The client must not be
// used afterwards.
func (c *Client) Close() { c.http.CloseIdleConnections() }

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
