// Package grants keeps the authorizations (企业授权, R15) that an enterprise gives one
// institution: which catalog items, which actions (VIEW, VERIFY), for which purposes, for how
// long, by which method, after reading which risk notice. Each grant carries a receipt: a
// compact JWS signed with the platform key that anyone can verify offline against the
// published keys.
package grants

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/auth"
	"creditd/internal/apperr"
	"creditd/internal/catalog"
	"creditd/internal/notice"
	"creditd/internal/orgs"
	"creditd/internal/policy"
)

// Status of a grant at a given time.
type Status string

const (
	Pending Status = "PENDING"
	Active  Status = "ACTIVE"
	Revoked Status = "REVOKED"
	Expired Status = "EXPIRED"
)

// Method of the enterprise's authorization.
const (
	Online  = "ONLINE"
	Written = "WRITTEN"
)

// MaxValidity is the longest a grant may last.
const MaxValidity = "12 months"

// Grant is one stored authorization.
type Grant struct {
	ID                string
	Enterprise        string
	Institution       string
	Items             []string
	Actions           []string
	Purposes          []string
	ValidFrom         time.Time
	ValidUntil        time.Time
	Method            string
	Evidence          string
	RiskNoticeVersion string
	Receipt           string
	CreatedAt         time.Time
	RevokedAt         *time.Time
}

// Status returns the grant's status at now.
func (g Grant) Status(now time.Time) Status {
	switch {
	case g.RevokedAt != nil:
		return Revoked
	case !now.Before(g.ValidUntil):
		return Expired
	case now.Before(g.ValidFrom):
		return Pending
	}
	return Active
}

// Policy converts the grant to the facts the access policy decides on.
func (g Grant) Policy() policy.Grant {
	return policy.Grant{ID: g.ID, Institution: g.Institution, Items: g.Items, Actions: g.Actions,
		Purposes: g.Purposes, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil, Revoked: g.RevokedAt != nil}
}

// Input is what an enterprise asks for.
type Input struct {
	Institution       string
	Items             []string
	Actions           []string
	Purposes          []string
	ValidFrom         *time.Time // nil: now
	ValidUntil        time.Time
	Method            string
	Evidence          string
	RiskNoticeVersion string
}

// Institutions finds institutions.
type Institutions interface {
	Institution(ctx context.Context, code string) (orgs.Institution, error)
}

// Signer signs receipts.
type Signer interface {
	Sign(typ string, claims jwt.Claims) (string, error)
}

// Service gives, revokes and lists grants.
type Service struct {
	pool   *pgxpool.Pool
	cat    *catalog.Catalog
	inst   Institutions
	signer Signer
	now    func() time.Time
}

// NewService returns a grant service.
func NewService(pool *pgxpool.Pool, cat *catalog.Catalog, inst Institutions, signer Signer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{pool: pool, cat: cat, inst: inst, signer: signer, now: now}
}

func badInput(format string, args ...any) *apperr.Error {
	return apperr.New(apperr.BadInput, format, args...)
}

var purposes = map[string]bool{
	"LOAN_APPLICATION": true, "CREDIT_REVIEW": true, "POST_LOAN_MONITORING": true,
	"GUARANTEE_SCREENING": true, "INSURANCE_UNDERWRITING": true,
}

// validate checks an enterprise's request against the catalog and the rules of R15.
func (s *Service) validate(ctx context.Context, in *Input, now time.Time) error {
	if strings.TrimSpace(in.Institution) == "" {
		return badInput("institution: required")
	}
	if _, err := s.inst.Institution(ctx, in.Institution); errors.Is(err, orgs.ErrNotFound) {
		return badInput("institution: %q is not an institution of the platform", in.Institution).With("institution", in.Institution)
	} else if err != nil {
		return err
	}
	if len(in.Actions) == 0 {
		return badInput("actions: at least one of VIEW, VERIFY")
	}
	in.Actions = dedupe(in.Actions)
	for _, a := range in.Actions {
		if a != policy.GrantView && a != policy.GrantVerify {
			return badInput("actions: %q is not VIEW or VERIFY", a)
		}
	}
	if len(in.Items) == 0 {
		return badInput("items: at least one catalog item")
	}
	in.Items = dedupe(in.Items)
	for _, code := range in.Items {
		it, ok := s.cat.Item(code)
		if !ok {
			return badInput("items: %q is not in the catalog", code).With("item", code)
		}
		if err := itemAllows(it, in.Actions); err != nil {
			return err
		}
	}
	if len(in.Purposes) == 0 {
		return badInput("purposes: at least one purpose")
	}
	in.Purposes = dedupe(in.Purposes)
	for _, p := range in.Purposes {
		if !purposes[p] {
			return badInput("purposes: %q is not a purpose", p)
		}
	}
	from := now
	if in.ValidFrom != nil {
		from = in.ValidFrom.UTC()
		if from.Before(now.Add(-time.Minute)) {
			return badInput("validFrom: must not be in the past")
		}
	}
	in.ValidFrom = &from
	in.ValidUntil = in.ValidUntil.UTC()
	if !in.ValidUntil.After(from) {
		return badInput("validUntil: must be after validFrom")
	}
	if in.ValidUntil.After(from.AddDate(0, 12, 0)) {
		return badInput("validUntil: at most %s after validFrom (%s)", MaxValidity, from.AddDate(0, 12, 0).Format(time.RFC3339))
	}
	switch in.Method {
	case Online:
		ev := strings.TrimSpace(in.Evidence)
		if ev == "" || len(ev) > 200 {
			return badInput("evidence: an ONLINE grant needs the reference of the real-name verification (1 to 200 characters)")
		}
		in.Evidence = ev
	case Written:
		ev := strings.ToLower(strings.TrimSpace(in.Evidence))
		if b, err := hex.DecodeString(ev); err != nil || len(b) != 32 {
			return badInput("evidence: a WRITTEN grant needs the SHA-256 of the signed document, as 64 hexadecimal characters")
		}
		in.Evidence = ev
	default:
		return badInput("method: %q is not ONLINE or WRITTEN", in.Method)
	}
	if cur := notice.Current().Version; in.RiskNoticeVersion != cur {
		return badInput("riskNoticeVersion: %q is not the current risk notice (%s); read riskNotice and acknowledge its version", in.RiskNoticeVersion, cur)
	}
	return nil
}

// itemAllows checks the actions against the item's access level.
func itemAllows(it *catalog.Item, actions []string) error {
	switch it.Access {
	case catalog.Public:
		return badInput("items: %s is public information and needs no grant", it.Code).With("item", it.Code)
	case catalog.ModelOnly:
		return badInput("items: %s is used only inside platform models; no institution may view or verify it", it.Code).With("item", it.Code)
	case catalog.VerifyOnly:
		if has(actions, policy.GrantView) {
			return badInput("actions: %s is usable but not visible; it may be verified, never viewed", it.Code).With("item", it.Code)
		}
	}
	if has(actions, policy.GrantVerify) && len(it.Verifiable) == 0 {
		return badInput("actions: %s has no verifiable fields", it.Code).With("item", it.Code)
	}
	return nil
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, v := range in {
		if !has(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// ReceiptClaims are the terms a grant receipt attests.
type ReceiptClaims struct {
	jwt.RegisteredClaims
	GrantID           string    `json:"grant_id"`
	Enterprise        string    `json:"enterprise"`
	Institution       string    `json:"institution"`
	Items             []string  `json:"items"`
	Actions           []string  `json:"actions"`
	Purposes          []string  `json:"purposes"`
	ValidFrom         time.Time `json:"valid_from"`
	ValidUntil        time.Time `json:"valid_until"`
	Method            string    `json:"method"`
	Evidence          string    `json:"evidence"`
	RiskNoticeVersion string    `json:"risk_notice_version"`
}

// Give records a grant from the enterprise v.Org and returns it with its signed receipt.
func (s *Service) Give(ctx context.Context, v policy.Viewer, in Input) (Grant, error) {
	now := s.now().UTC().Truncate(time.Second)
	if res := policy.Decide(policy.Request{Viewer: v, Subject: v.Org, Action: policy.Authorize, Now: now}); !res.Allowed {
		return Grant{}, apperr.New(res.Code, "%s", res.Reason)
	}
	if err := s.validate(ctx, &in, now); err != nil {
		return Grant{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Grant{}, fmt.Errorf("grant id: %w", err)
	}
	g := Grant{
		ID: id.String(), Enterprise: v.Org, Institution: in.Institution, Items: in.Items,
		Actions: in.Actions, Purposes: in.Purposes, ValidFrom: in.ValidFrom.Truncate(time.Second),
		ValidUntil: in.ValidUntil.Truncate(time.Second), Method: in.Method, Evidence: in.Evidence,
		RiskNoticeVersion: in.RiskNoticeVersion, CreatedAt: now,
	}
	g.Receipt, err = s.signer.Sign(auth.TypeGrantReceipt, ReceiptClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: auth.DefaultIssuer, Subject: g.Enterprise, Audience: jwt.ClaimStrings{g.Institution},
			ID: g.ID, IssuedAt: jwt.NewNumericDate(now),
		},
		GrantID: g.ID, Enterprise: g.Enterprise, Institution: g.Institution, Items: g.Items,
		Actions: g.Actions, Purposes: g.Purposes, ValidFrom: g.ValidFrom, ValidUntil: g.ValidUntil,
		Method: g.Method, Evidence: g.Evidence, RiskNoticeVersion: g.RiskNoticeVersion,
	})
	if err != nil {
		return Grant{}, fmt.Errorf("sign grant receipt: %w", err)
	}
	_, err = s.pool.Exec(ctx, `
		INSERT INTO grants (uscc, id, institution, items, actions, purposes, valid_from, valid_until,
			method, evidence, risk_notice_version, receipt, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		g.Enterprise, g.ID, g.Institution, g.Items, g.Actions, g.Purposes, g.ValidFrom, g.ValidUntil,
		g.Method, g.Evidence, g.RiskNoticeVersion, g.Receipt, g.CreatedAt)
	if err != nil {
		return Grant{}, fmt.Errorf("save grant: %w", err)
	}
	return g, nil
}

// Columns are the grant columns ScanAll reads.
const Columns = grantCols

const grantCols = `id::text, uscc, institution, items, actions, purposes, valid_from, valid_until, method, evidence, risk_notice_version, receipt, created_at, revoked_at`

func scanGrant(row pgx.Row) (Grant, error) {
	var g Grant
	err := row.Scan(&g.ID, &g.Enterprise, &g.Institution, &g.Items, &g.Actions, &g.Purposes, &g.ValidFrom,
		&g.ValidUntil, &g.Method, &g.Evidence, &g.RiskNoticeVersion, &g.Receipt, &g.CreatedAt, &g.RevokedAt)
	return g, err
}

// Revoke ends one of the enterprise's grants at once. Revoking a grant again, or one that has
// expired, changes nothing and returns it.
func (s *Service) Revoke(ctx context.Context, v policy.Viewer, id string) (Grant, error) {
	now := s.now().UTC()
	if res := policy.Decide(policy.Request{Viewer: v, Subject: v.Org, Action: policy.Authorize, Now: now}); !res.Allowed {
		return Grant{}, apperr.New(res.Code, "%s", res.Reason)
	}
	gid, err := uuid.Parse(id)
	if err != nil {
		return Grant{}, apperr.New(apperr.NotFound, "no grant of yours has this id")
	}
	g, err := scanGrant(s.pool.QueryRow(ctx, `
		UPDATE grants SET revoked_at = coalesce(revoked_at, $3)
		WHERE uscc = $1 AND id = $2
		RETURNING `+grantCols, v.Org, gid, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return Grant{}, apperr.New(apperr.NotFound, "no grant of yours has this id")
	}
	if err != nil {
		return Grant{}, fmt.Errorf("revoke grant: %w", err)
	}
	return g, nil
}

// Page is one page of grants, newest first.
type Page struct {
	Grants    []Grant
	HasNext   bool
	EndCursor string
}

// List returns the grants an enterprise gave or an institution holds, newest first.
func (s *Service) List(ctx context.Context, v policy.Viewer, first int, after string) (Page, error) {
	if res := policy.Decide(policy.Request{Viewer: v, Action: policy.ListGrants, Now: s.now()}); !res.Allowed {
		return Page{}, apperr.New(res.Code, "%s", res.Reason)
	}
	if first < 1 || first > 100 {
		return Page{}, badInput("first: must be between 1 and 100")
	}
	cursor := uuid.Max
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		if err == nil {
			cursor, err = uuid.Parse(string(b))
		}
		if err != nil {
			return Page{}, badInput("after: not a cursor returned by grants")
		}
	}
	col := "uscc"
	if v.Role == policy.Institution {
		col = "institution"
	}
	rows, err := s.pool.Query(ctx, `SELECT `+grantCols+` FROM grants WHERE `+col+` = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, v.Org, cursor, first+1)
	if err != nil {
		return Page{}, fmt.Errorf("list grants: %w", err)
	}
	gs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Grant, error) { return scanGrant(r) })
	if err != nil {
		return Page{}, fmt.Errorf("list grants: %w", err)
	}
	p := Page{HasNext: len(gs) > first}
	if p.HasNext {
		gs = gs[:first]
	}
	p.Grants = gs
	if len(gs) > 0 {
		p.EndCursor = Cursor(gs[len(gs)-1].ID)
	}
	return p, nil
}

// Cursor is the opaque cursor of a grant in a listing.
func Cursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

// ForInstitution returns every grant the enterprise gave the institution, in any state; the
// policy decides which of them count. It is the query the read path batches.
const ForInstitution = `SELECT ` + grantCols + ` FROM grants WHERE uscc = $1 AND institution = $2`

// ScanAll reads the rows of ForInstitution.
func ScanAll(rows pgx.Rows) ([]Grant, error) {
	gs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Grant, error) { return scanGrant(r) })
	if err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	return gs, nil
}
