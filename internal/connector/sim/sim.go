// Package sim simulates the data providers reached live by the platform (tax bureau, housing
// fund centre, power grid, real-estate registry), serving the provider protocol of package
// connector for several providers at once under path prefixes:
//
//	GET  /{PROVIDER}/v1/items/{item}/records?uscc={USCC}    provider_api items
//	POST /{PROVIDER}/v1/items/{item}/verify                 every item served
//	GET  /healthz                                            {"status":"ok"}
//	GET  /                                                   the providers and items served
//
// Its data are made up but realistic and deterministic: a SHA-256 of (item, USCC, and the
// month for monthly data) seeds every value, and dates are placed relative to an as-of date. It
// is a development and test tool; it holds no real data.
package sim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"creditd/internal/uscc"
)

// Options configure a Handler.
type Options struct {
	// AsOf is the calendar date the data are relative to; zero means today in Asia/Shanghai,
	// taken at each request.
	AsOf time.Time
	// Secret, when set, is required as "Authorization: Bearer <Secret>" on /v1 requests;
	// empty accepts every request (development).
	Secret string
	// Latency is added before answering each /v1 request (cut short if the client goes away).
	Latency time.Duration
	// FailRate is the fraction of /v1 requests answered 503, in [0, 1].
	FailRate float64
	// Logger receives one line per request (default: discard). The query string, which holds
	// the enterprise's code, is not logged.
	Logger *slog.Logger
}

// Handler serves the simulated providers. It is safe for concurrent use.
type Handler struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// maxRequestBody bounds a verify request.
const maxRequestBody = 4 << 10

// NewHandler validates the options and returns the handler.
func NewHandler(opts Options) (*Handler, error) {
	if opts.FailRate < 0 || opts.FailRate > 1 || math.IsNaN(opts.FailRate) {
		return nil, fmt.Errorf("sim: fail rate %v is not between 0 and 1", opts.FailRate)
	}
	if opts.Latency < 0 {
		return nil, fmt.Errorf("sim: latency %v is negative", opts.Latency)
	}
	h := &Handler{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	h.mux.HandleFunc("GET /{$}", h.index)
	h.mux.HandleFunc("/{provider}/v1/items/{item}/records", h.v1(http.MethodGet, h.records))
	h.mux.HandleFunc("/{provider}/v1/items/{item}/verify", h.v1(http.MethodPost, h.verify))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	return h, nil
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := r.Header.Get("X-Request-Id")
	if rid != "" && len(rid) <= 128 {
		w.Header().Set("X-Request-Id", rid)
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	h.mux.ServeHTTP(sw, r)
	h.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
		"request_id", rid, "elapsed_ms", time.Since(start).Milliseconds())
}

func (h *Handler) index(w http.ResponseWriter, _ *http.Request) {
	type entry struct {
		Item string `json:"item"`
		Mode Mode   `json:"mode"`
	}
	out := map[string][]entry{}
	for _, it := range Items() {
		out[it.Provider] = append(out[it.Provider], entry{it.Code, it.Mode})
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": out})
}

// v1 wraps the protocol's endpoints: latency, simulated failures, authentication, method,
// provider and item.
func (h *Handler) v1(method string, next func(http.ResponseWriter, *http.Request, Item, time.Time)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if d := h.opts.Latency; d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return // the client is gone
			}
		}
		if h.opts.FailRate > 0 && rand.Float64() < h.opts.FailRate {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "unavailable")
			return
		}
		if !h.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="provider"`)
			writeError(w, http.StatusUnauthorized, "unauthorized")
			return
		}
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		provider := r.PathValue("provider")
		if !servesProvider(provider) {
			writeError(w, http.StatusNotFound, "unknown provider")
			return
		}
		it, ok := findItem(provider, r.PathValue("item"))
		if !ok {
			writeError(w, http.StatusNotFound, "unknown item")
			return
		}
		asOf := h.opts.AsOf
		if asOf.IsZero() {
			asOf = Today(time.Now())
		}
		next(w, r, it, dateOf(asOf))
	}
}

func (h *Handler) authorized(r *http.Request) bool {
	if h.opts.Secret == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(h.opts.Secret)) == 1
}

func servesProvider(code string) bool {
	for _, it := range Items() {
		if it.Provider == code {
			return true
		}
	}
	return false
}

func (h *Handler) records(w http.ResponseWriter, r *http.Request, it Item, asOf time.Time) {
	if it.Mode != ProviderAPI {
		// Data held for verification only are never sent.
		writeError(w, http.StatusNotFound, "unknown item")
		return
	}
	q := r.URL.Query()
	if len(q["uscc"]) != 1 {
		writeError(w, http.StatusBadRequest, "uscc is required once")
		return
	}
	code, err := uscc.Parse(q.Get("uscc"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad uscc")
		return
	}
	recs, _ := Records(it.Code, string(code), asOf)
	writeJSON(w, http.StatusOK, map[string]any{"records": recs})
}

// verifyRequest is the body of a verify request.
type verifyRequest struct {
	USCC  string `json:"uscc"`
	Field string `json:"field"`
	Op    string `json:"op"`
	Value string `json:"value"`
}

func (h *Handler) verify(w http.ResponseWriter, r *http.Request, it Item, asOf time.Time) {
	var req verifyRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		writeError(w, http.StatusBadRequest, "body must be {\"uscc\",\"field\",\"op\",\"value\"}")
		return
	}
	code, err := uscc.Parse(req.USCC)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad uscc")
		return
	}
	recs, _ := Records(it.Code, string(code), asOf)
	result, err := Evaluate(it, recs, req.Field, req.Op, req.Value)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"result": result})
}

// Evaluate tests a claim against the latest of recs: MATCH, NO_MATCH or UNAVAILABLE (no record,
// or GE/LE on a value that is not a number). An error is a malformed claim (unknown field or
// operator, GE/LE threshold that is not a number).
func Evaluate(it Item, recs []Record, field, op, value string) (string, error) {
	known := false
	for _, f := range it.Fields {
		known = known || f == field
	}
	if !known {
		return "", errors.New("unknown field")
	}
	var threshold float64
	switch op {
	case "GE", "LE":
		t, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || math.IsInf(t, 0) || math.IsNaN(t) {
			return "", errors.New("value is not a number")
		}
		threshold = t
	case "EQ":
	default:
		return "", errors.New("op must be EQ, GE or LE")
	}
	latest, ok := Latest(recs)
	if !ok {
		return "UNAVAILABLE", nil
	}
	v, present := latest.Data[field]
	if !present {
		return "UNAVAILABLE", nil
	}
	n, isNum := numeric(v)
	var match bool
	switch op {
	case "GE", "LE":
		if !isNum {
			return "UNAVAILABLE", nil
		}
		match = op == "GE" && n >= threshold || op == "LE" && n <= threshold
	case "EQ":
		if isNum {
			t, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			match = err == nil && t == n
		} else {
			match = text(v) == value
		}
	}
	if match {
		return "MATCH", nil
	}
	return "NO_MATCH", nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
