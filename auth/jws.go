package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// JWS types (header "typ"). A verifier accepts exactly one type, so that a token of one kind can
// never stand in for another.
const (
	TypeAccessToken     = "at+jwt"
	TypeGrantReceipt    = "grant-receipt+jwt"
	TypeUsageCheckpoint = "usage-checkpoint+jwt"
)

// Sign returns a compact JWS of claims, signed ES256 with the signing key, with header typ and kid.
func (k *KeySet) Sign(typ string, claims jwt.Claims) (string, error) {
	if typ == "" {
		return "", errors.New("sign: empty token type")
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["typ"] = typ
	t.Header["kid"] = k.signKID
	s, err := t.SignedString(k.signKey)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", typ, err)
	}
	return s, nil
}

// Verify checks token against k's keys; see (*PublicKeys).Verify.
func (k *KeySet) Verify(typ, token string, claims jwt.Claims, opts ...jwt.ParserOption) error {
	return k.public.Verify(typ, token, claims, opts...)
}

// Verify checks that token is an ES256 JWS of type typ signed by one of p's keys (chosen by kid),
// decodes its payload into claims and validates them (exp, iat, nbf; plus what opts ask, such as
// jwt.WithIssuer, jwt.WithAudience, jwt.WithExpirationRequired). The algorithm is pinned to
// ES256 whatever opts say. Errors never contain the token.
func (p *PublicKeys) Verify(typ, token string, claims jwt.Claims, opts ...jwt.ParserOption) error {
	// Options applied last win: the caller cannot relax the algorithm or decoding rules.
	opts = append(slices.Clip(opts), jwt.WithValidMethods([]string{Algorithm}), jwt.WithStrictDecoding())
	_, err := jwt.NewParser(opts...).ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if got, _ := t.Header["typ"].(string); !sameType(got, typ) {
			return nil, fmt.Errorf("token type %q, want %q", got, typ)
		}
		if _, ok := t.Header["crit"]; ok {
			return nil, errors.New("critical header extensions are not supported")
		}
		kid, _ := t.Header["kid"].(string)
		key, ok := p.keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", truncate(kid, 64))
		}
		return key, nil
	})
	if err != nil {
		return fmt.Errorf("verify %s: %w", typ, err)
	}
	return nil
}

// sameType compares JWS "typ" values as RFC 7515 section 4.1.9 asks: case-insensitively, with an
// optional "application/" prefix.
func sameType(got, want string) bool {
	norm := func(s string) string {
		s = strings.ToLower(s)
		return strings.TrimPrefix(s, "application/")
	}
	return want != "" && norm(got) == norm(want)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
