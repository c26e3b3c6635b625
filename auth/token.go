package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"creditd/internal/apperr"
	"creditd/internal/uscc"
)

// Role is the caller's kind, from the verified access token.
type Role string

const (
	RoleInstitution Role = "INSTITUTION"
	RoleEnterprise  Role = "ENTERPRISE"
	RoleProvider    Role = "PROVIDER"
	RoleOperator    Role = "OPERATOR"
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleInstitution, RoleEnterprise, RoleProvider, RoleOperator:
		return true
	}
	return false
}

// Token defaults.
const (
	DefaultIssuer   = "creditd"
	DefaultAudience = "creditd-api"
	DefaultTTL      = time.Hour
)

// AccessClaims is the payload of an access token.
type AccessClaims struct {
	jwt.RegisteredClaims
	Role Role   `json:"role"`
	Org  string `json:"org"`
}

// Viewer is the authenticated caller.
type Viewer struct {
	Role Role
	// Org is the institution code, the enterprise's normalized USCC, the provider code, or the
	// operator's organization.
	Org     string
	Subject string
}

// MintParams describes an access token. Zero values take defaults: Subject the org, TTL one
// hour, Issuer "creditd", Audience "creditd-api", Now the current time.
type MintParams struct {
	Role     Role
	Org      string
	Subject  string
	TTL      time.Duration
	Issuer   string
	Audience string
	Now      time.Time
}

// Mint returns an access token (typ at+jwt) signed with keys' signing key.
func Mint(keys *KeySet, p MintParams) (string, error) {
	org, err := checkOrg(p.Role, p.Org)
	if err != nil {
		return "", err
	}
	if p.TTL < 0 {
		return "", fmt.Errorf("ttl must be positive, got %s", p.TTL)
	}
	if p.TTL == 0 {
		p.TTL = DefaultTTL
	}
	if p.Subject = strings.TrimSpace(p.Subject); p.Subject == "" {
		p.Subject = org
	}
	if p.Issuer == "" {
		p.Issuer = DefaultIssuer
	}
	if p.Audience == "" {
		p.Audience = DefaultAudience
	}
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	now := p.Now.Truncate(time.Second)
	return keys.Sign(TypeAccessToken, AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    p.Issuer,
			Subject:   p.Subject,
			Audience:  jwt.ClaimStrings{p.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(p.TTL)),
		},
		Role: p.Role,
		Org:  org,
	})
}

// checkOrg validates role and org and returns the normalized org.
func checkOrg(role Role, org string) (string, error) {
	if !role.Valid() {
		return "", fmt.Errorf("unknown role %q (want INSTITUTION, ENTERPRISE, PROVIDER or OPERATOR)", truncate(string(role), 32))
	}
	if strings.TrimSpace(org) == "" {
		return "", errors.New("org is required")
	}
	if role == RoleEnterprise {
		code, err := uscc.Parse(org)
		if err != nil {
			return "", fmt.Errorf("enterprise org: %w", err)
		}
		return code.String(), nil
	}
	return org, nil
}

// VerifierOptions configure a Verifier. Zero values take defaults: Issuer "creditd", Audience
// "creditd-api", Now time.Now, no leeway.
type VerifierOptions struct {
	Issuer   string
	Audience string
	Now      func() time.Time
	Leeway   time.Duration
}

// JWSVerifier checks a typed JWS; *KeySet and *PublicKeys satisfy it.
type JWSVerifier interface {
	Verify(typ, token string, claims jwt.Claims, opts ...jwt.ParserOption) error
}

// Verifier verifies access tokens.
type Verifier struct {
	keys JWSVerifier
	opts []jwt.ParserOption
}

// NewVerifier returns a verifier of access tokens signed by keys.
func NewVerifier(keys JWSVerifier, o VerifierOptions) *Verifier {
	if o.Issuer == "" {
		o.Issuer = DefaultIssuer
	}
	if o.Audience == "" {
		o.Audience = DefaultAudience
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Verifier{keys: keys, opts: []jwt.ParserOption{
		jwt.WithIssuer(o.Issuer),
		jwt.WithAudience(o.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(o.Now),
		jwt.WithLeeway(o.Leeway),
	}}
}

// errInvalidToken is the message every refused token gets: it says nothing about why.
const errInvalidToken = "invalid or expired token"

// Verify checks an access token and returns its Viewer. Every failure is an *apperr.Error with
// code UNAUTHENTICATED and a generic message; the reason is in its Err, for logs.
func (v *Verifier) Verify(token string) (Viewer, error) {
	var c AccessClaims
	if err := v.keys.Verify(TypeAccessToken, token, &c, v.opts...); err != nil {
		return Viewer{}, unauthenticated(err)
	}
	if c.Subject == "" {
		return Viewer{}, unauthenticated(errors.New("token has no sub"))
	}
	if c.IssuedAt == nil {
		return Viewer{}, unauthenticated(errors.New("token has no iat"))
	}
	org, err := checkOrg(c.Role, c.Org)
	if err != nil {
		return Viewer{}, unauthenticated(err)
	}
	return Viewer{Role: c.Role, Org: org, Subject: c.Subject}, nil
}

func unauthenticated(reason error) *apperr.Error {
	return &apperr.Error{Code: apperr.Unauthenticated, Message: errInvalidToken, Err: reason}
}
