package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/orgs"
	"creditd/internal/testdb"
)

// countingDirectory counts the lookups made through the real store.
type countingDirectory struct {
	OrgDirectory
	n atomic.Int32
}

func (c *countingDirectory) Institution(ctx context.Context, code string) (orgs.Institution, error) {
	c.n.Add(1)
	return c.OrgDirectory.Institution(ctx, code)
}

func (c *countingDirectory) Provider(ctx context.Context, code string) (orgs.Provider, error) {
	c.n.Add(1)
	return c.OrgDirectory.Provider(ctx, code)
}

type errorBody struct {
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
}

func TestMiddleware(t *testing.T) {
	ctx := context.Background()
	store := orgs.NewStore(testdb.Pool(t))
	for _, in := range []orgs.Institution{
		{Code: "DEMO-BANK", Name: "Demo Bank", Kind: "bank", Status: orgs.Active},
		{Code: "SUSP-BANK", Name: "Suspended Bank", Kind: "bank", Status: orgs.Suspended},
	} {
		if err := store.PutInstitution(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []orgs.Provider{
		{Code: "SAMR", Name: "Market regulation", Status: orgs.Active},
		{Code: "SUSP-PROV", Name: "Suspended provider", Status: orgs.Suspended},
	} {
		if err := store.PutProvider(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	ks := newKeys(t)
	now := time.Now()
	token := func(role Role, org string) string {
		return mint(t, ks, MintParams{Role: role, Org: org, Subject: "user-1", Now: now})
	}
	enterprise := validUSCC(t)
	expired := mint(t, ks, MintParams{Role: RoleInstitution, Org: "DEMO-BANK", Now: now.Add(-2 * time.Hour), TTL: time.Hour})

	cases := []struct {
		name    string
		url     string
		header  []string // Authorization values
		status  int
		code    string // extensions.code of a refusal
		message string // part of the message
		viewer  Viewer // seen by the next handler when status is 200
		lookups int32
	}{
		{name: "no header", url: "/graphql", status: 401, code: "UNAUTHENTICATED", message: "Bearer"},
		{name: "token in query ignored", url: "/graphql?access_token=" + token(RoleInstitution, "DEMO-BANK"), status: 401, code: "UNAUTHENTICATED"},
		{name: "basic scheme", header: []string{"Basic dXNlcjpwYXNz"}, status: 401, code: "UNAUTHENTICATED", message: "scheme"},
		{name: "DPoP scheme", header: []string{"DPoP " + token(RoleInstitution, "DEMO-BANK")}, status: 401, code: "UNAUTHENTICATED", message: "not supported yet"},
		{name: "empty bearer", header: []string{"Bearer "}, status: 401, code: "UNAUTHENTICATED"},
		{name: "two headers", header: []string{"Bearer " + token(RoleInstitution, "DEMO-BANK"), "Bearer " + token(RoleOperator, "PLATFORM")}, status: 401, code: "UNAUTHENTICATED"},
		{name: "expired", header: []string{"Bearer " + expired}, status: 401, code: "UNAUTHENTICATED", message: "invalid or expired token"},
		{name: "receipt typ as bearer", header: []string{"Bearer " + mustSign(t, ks, TypeGrantReceipt, withClaims(accessClaims(), "iat", now.Unix(), "exp", now.Add(time.Hour).Unix()))}, status: 401, code: "UNAUTHENTICATED"},
		{name: "unknown institution", header: []string{"Bearer " + token(RoleInstitution, "NO-SUCH-BANK")}, status: 403, code: "FORBIDDEN", lookups: 1},
		{name: "suspended institution", header: []string{"Bearer " + token(RoleInstitution, "SUSP-BANK")}, status: 403, code: "INSTITUTION_SUSPENDED", lookups: 1},
		{name: "unknown provider", header: []string{"Bearer " + token(RoleProvider, "NO-SUCH-PROV")}, status: 403, code: "FORBIDDEN", lookups: 1},
		{name: "suspended provider", header: []string{"Bearer " + token(RoleProvider, "SUSP-PROV")}, status: 403, code: "FORBIDDEN", lookups: 1},
		{name: "institution registered under another role's code", header: []string{"Bearer " + token(RoleInstitution, "SAMR")}, status: 403, code: "FORBIDDEN", lookups: 1},
		{name: "valid institution", header: []string{"Bearer " + token(RoleInstitution, "DEMO-BANK")}, status: 200,
			viewer: Viewer{Role: RoleInstitution, Org: "DEMO-BANK", Subject: "user-1"}, lookups: 1},
		{name: "lower-case scheme", header: []string{"bearer " + token(RoleInstitution, "DEMO-BANK")}, status: 200,
			viewer: Viewer{Role: RoleInstitution, Org: "DEMO-BANK", Subject: "user-1"}, lookups: 1},
		{name: "valid provider", header: []string{"Bearer " + token(RoleProvider, "SAMR")}, status: 200,
			viewer: Viewer{Role: RoleProvider, Org: "SAMR", Subject: "user-1"}, lookups: 1},
		{name: "enterprise needs no lookup", header: []string{"Bearer " + token(RoleEnterprise, strings.ToLower(enterprise))}, status: 200,
			viewer: Viewer{Role: RoleEnterprise, Org: enterprise, Subject: "user-1"}},
		{name: "operator needs no lookup", header: []string{"Bearer " + token(RoleOperator, "PLATFORM")}, status: 200,
			viewer: Viewer{Role: RoleOperator, Org: "PLATFORM", Subject: "user-1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			dir := &countingDirectory{OrgDirectory: store}
			a := NewAuthenticator(NewVerifier(ks, VerifierOptions{}), dir, logger)
			var seen *Viewer
			h := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				v, ok := ViewerFrom(r.Context())
				if !ok {
					t.Error("next handler has no Viewer")
				}
				seen = &v
			}))
			url := tc.url
			if url == "" {
				url = "/graphql"
			}
			req := httptest.NewRequest(http.MethodPost, url, strings.NewReader(`{"query":"{__typename}"}`))
			for _, v := range tc.header {
				req.Header.Add("Authorization", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (body %s)", rec.Code, tc.status, rec.Body)
			}
			if got := dir.n.Load(); got != tc.lookups {
				t.Errorf("%d directory lookups, want %d", got, tc.lookups)
			}
			for _, v := range tc.header {
				if _, tok, _ := strings.Cut(v, " "); tok != "" && (strings.Contains(logs.String(), tok) || strings.Contains(rec.Body.String(), tok)) {
					t.Error("token appears in the logs or the response")
				}
			}
			if tc.status == http.StatusOK {
				if seen == nil || *seen != tc.viewer {
					t.Errorf("next handler saw %+v, want %+v", seen, tc.viewer)
				}
				return
			}
			if seen != nil {
				t.Error("refused request reached the next handler")
			}
			checkErrorBody(t, rec, tc.code, tc.message)
			if tc.status == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestMiddlewareDatabaseError(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), testdb.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	pool.Close() // every query now fails
	ks := newKeys(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	a := NewAuthenticator(NewVerifier(ks, VerifierOptions{}), orgs.NewStore(pool), logger)
	h := a.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("request reached the next handler")
	}))
	for _, role := range []Role{RoleInstitution, RoleProvider} {
		t.Run(string(role), func(t *testing.T) {
			logs.Reset()
			tok := mint(t, ks, MintParams{Role: role, Org: "DEMO-BANK", Now: time.Now()})
			req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500", rec.Code)
			}
			checkErrorBody(t, rec, "INTERNAL", "internal error")
			if n := strings.Count(logs.String(), "\n"); n != 1 {
				t.Errorf("%d log lines, want 1: %s", n, logs.String())
			}
			if strings.Contains(logs.String(), tok) || strings.Contains(rec.Body.String(), "closed") {
				t.Error("token logged or database detail returned")
			}
		})
	}
}

func checkErrorBody(t *testing.T, rec *httptest.ResponseRecorder, code, message string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not the JSON error shape: %v", rec.Body, err)
	}
	if len(body.Errors) != 1 || body.Errors[0].Extensions.Code != code {
		t.Fatalf("body %s, want one error with code %s", rec.Body, code)
	}
	if !strings.Contains(body.Errors[0].Message, message) {
		t.Errorf("message %q, want it to contain %q", body.Errors[0].Message, message)
	}
}
