package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"creditd/internal/apperr"
	"creditd/internal/uscc"
)

var testNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func validUSCC(t *testing.T) string {
	t.Helper()
	c, err := uscc.Complete("91330106MA2AXXXX0")
	if err != nil {
		t.Fatal(err)
	}
	return c.String()
}

// badCheck returns code with a wrong (but in-alphabet) check character.
func badCheck(code string) string {
	last := code[len(code)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return code[:len(code)-1] + string(repl)
}

// accessClaims returns valid access claims as a map, minus the named fields.
func accessClaims(without ...string) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss":  DefaultIssuer,
		"aud":  DefaultAudience,
		"sub":  "alice",
		"iat":  testNow.Add(-time.Minute).Unix(),
		"exp":  testNow.Add(time.Hour).Unix(),
		"role": "INSTITUTION",
		"org":  "DEMO-BANK",
	}
	for _, f := range without {
		delete(c, f)
	}
	return c
}

// rawToken signs claims with method and key, with the given header fields.
func rawToken(t *testing.T, method jwt.SigningMethod, key any, header map[string]any, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mint(t *testing.T, ks *KeySet, p MintParams) string {
	t.Helper()
	if p.Now.IsZero() {
		p.Now = testNow.Add(-time.Minute)
	}
	tok, err := Mint(ks, p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerifierAccessTokens(t *testing.T) {
	dir := t.TempDir()
	ks, err := LoadKeys(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	kid := ks.SigningKID()
	hdr := map[string]any{"kid": kid, "typ": TypeAccessToken}

	// Another ES256 key published under the same kid, and one under an unknown kid.
	sameKIDDir := t.TempDir()
	writeKey(t, sameKIDDir, kid, elliptic.P256())
	sameKID, err := LoadKeys(sameKIDDir, false)
	if err != nil {
		t.Fatal(err)
	}
	stranger := newKeys(t)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ks.Public().Key(kid)
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	pubRaw, err := pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	code := validUSCC(t)

	cases := []struct {
		name   string
		token  func(t *testing.T) string
		want   *Viewer // nil: refused
		reason string  // part of the logged reason of a refusal
	}{
		{"valid institution", func(t *testing.T) string {
			return mint(t, ks, MintParams{Role: RoleInstitution, Org: "DEMO-BANK", Subject: "alice"})
		}, &Viewer{Role: RoleInstitution, Org: "DEMO-BANK", Subject: "alice"}, ""},
		{"valid enterprise, org normalized", func(t *testing.T) string {
			return rawToken(t, jwt.SigningMethodES256, mustSigningKey(t, dir, kid), hdr, withClaims(accessClaims(), "role", "ENTERPRISE", "org", " "+strings.ToLower(code)))
		}, &Viewer{Role: RoleEnterprise, Org: code, Subject: "alice"}, ""},
		{"subject defaults to org", func(t *testing.T) string {
			return mint(t, ks, MintParams{Role: RoleProvider, Org: "SAMR"})
		}, &Viewer{Role: RoleProvider, Org: "SAMR", Subject: "SAMR"}, ""},
		{"typ with application/ prefix", func(t *testing.T) string {
			return rawToken(t, jwt.SigningMethodES256, mustSigningKey(t, dir, kid), map[string]any{"kid": kid, "typ": "application/AT+JWT"}, accessClaims())
		}, &Viewer{Role: RoleInstitution, Org: "DEMO-BANK", Subject: "alice"}, ""},
		{"expired", func(t *testing.T) string {
			return mint(t, ks, MintParams{Role: RoleInstitution, Org: "DEMO-BANK", Now: testNow.Add(-2 * time.Hour), TTL: time.Hour})
		}, nil, "token is expired"},
		{"issued in the future", func(t *testing.T) string {
			return mint(t, ks, MintParams{Role: RoleInstitution, Org: "DEMO-BANK", Now: testNow.Add(time.Hour)})
		}, nil, "used before issued"},
		{"wrong iss", func(t *testing.T) string {
			return mint(t, ks, MintParams{Role: RoleInstitution, Org: "DEMO-BANK", Issuer: "someone-else"})
		}, nil, "invalid issuer"},
		{"wrong aud", func(t *testing.T) string {
			return mint(t, ks, MintParams{Role: RoleInstitution, Org: "DEMO-BANK", Audience: "other-api"})
		}, nil, "invalid audience"},
		{"missing exp", func(t *testing.T) string { return mustSign(t, ks, TypeAccessToken, accessClaims("exp")) }, nil, "exp claim is required"},
		{"missing iat", func(t *testing.T) string { return mustSign(t, ks, TypeAccessToken, accessClaims("iat")) }, nil, "no iat"},
		{"missing iss", func(t *testing.T) string { return mustSign(t, ks, TypeAccessToken, accessClaims("iss")) }, nil, "iss claim is required"},
		{"missing sub", func(t *testing.T) string { return mustSign(t, ks, TypeAccessToken, accessClaims("sub")) }, nil, "no sub"},
		{"missing role", func(t *testing.T) string { return mustSign(t, ks, TypeAccessToken, accessClaims("role")) }, nil, "unknown role"},
		{"missing org", func(t *testing.T) string { return mustSign(t, ks, TypeAccessToken, accessClaims("org")) }, nil, "org is required"},
		{"unknown role", func(t *testing.T) string {
			return mustSign(t, ks, TypeAccessToken, withClaims(accessClaims(), "role", "ADMIN"))
		}, nil, "unknown role \"ADMIN\""},
		{"enterprise org with bad check character", func(t *testing.T) string {
			return mustSign(t, ks, TypeAccessToken, withClaims(accessClaims(), "role", "ENTERPRISE", "org", badCheck(code)))
		}, nil, "wrong check character"},
		{"other key under the same kid", func(t *testing.T) string {
			return mint(t, sameKID, MintParams{Role: RoleInstitution, Org: "DEMO-BANK"})
		}, nil, "verification error"},
		{"unknown kid", func(t *testing.T) string {
			return mint(t, stranger, MintParams{Role: RoleInstitution, Org: "DEMO-BANK"})
		}, nil, "unknown key id"},
		{"no kid", func(t *testing.T) string {
			return rawToken(t, jwt.SigningMethodES256, mustSigningKey(t, dir, kid), map[string]any{"typ": TypeAccessToken}, accessClaims())
		}, nil, "unknown key id"},
		{"RS256", func(t *testing.T) string { return rawToken(t, jwt.SigningMethodRS256, rsaKey, hdr, accessClaims()) }, nil, "signing method RS256 is invalid"},
		{"HS256 keyed with the public key PEM", func(t *testing.T) string {
			return rawToken(t, jwt.SigningMethodHS256, pubPEM, hdr, accessClaims())
		}, nil, "signing method HS256 is invalid"},
		{"HS256 keyed with the raw public key", func(t *testing.T) string {
			return rawToken(t, jwt.SigningMethodHS256, pubRaw, hdr, accessClaims())
		}, nil, "signing method HS256 is invalid"},
		{"alg none", func(t *testing.T) string {
			return rawToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, hdr, accessClaims())
		}, nil, "signing method none is invalid"},
		{"grant receipt typ", func(t *testing.T) string { return mustSign(t, ks, TypeGrantReceipt, accessClaims()) }, nil, "token type \"grant-receipt+jwt\""},
		{"usage checkpoint typ", func(t *testing.T) string { return mustSign(t, ks, TypeUsageCheckpoint, accessClaims()) }, nil, "token type \"usage-checkpoint+jwt\""},
		{"plain JWT typ", func(t *testing.T) string { return mustSign(t, ks, "JWT", accessClaims()) }, nil, "token type \"JWT\""},
		{"no typ", func(t *testing.T) string {
			return rawToken(t, jwt.SigningMethodES256, mustSigningKey(t, dir, kid), map[string]any{"kid": kid, "typ": nil}, accessClaims())
		}, nil, "token type \"\""},
		{"crit header", func(t *testing.T) string {
			return rawToken(t, jwt.SigningMethodES256, mustSigningKey(t, dir, kid), map[string]any{"kid": kid, "typ": TypeAccessToken, "crit": []string{"exp"}}, accessClaims())
		}, nil, "critical header"},
		{"payload altered after signing", func(t *testing.T) string {
			tok := mint(t, ks, MintParams{Role: RoleInstitution, Org: "DEMO-BANK"})
			parts := strings.Split(tok, ".")
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				t.Fatal(err)
			}
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "INSTITUTION", "OPERATOR", 1)))
			return strings.Join(parts, ".")
		}, nil, "verification error"},
		{"garbage", func(t *testing.T) string { return "not-a-token" }, nil, "malformed"},
	}
	verifier := NewVerifier(ks, VerifierOptions{Now: func() time.Time { return testNow }})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.token(t)
			got, err := verifier.Verify(tok)
			if tc.want != nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got != *tc.want {
					t.Errorf("viewer %+v, want %+v", got, *tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted as %+v", got)
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.Unauthenticated || ae.Message != "invalid or expired token" {
				t.Errorf("error %#v, want UNAUTHENTICATED with the generic message", err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("refused for %q, want a reason containing %q", err, tc.reason)
			}
			if ae != nil && ae.Err == nil {
				t.Error("no reason kept for logs")
			}
			if strings.Contains(err.Error(), tok) {
				t.Error("error contains the token")
			}
		})
	}
}

func TestVerifierLeewayAndOptions(t *testing.T) {
	ks := newKeys(t)
	tok := mint(t, ks, MintParams{Role: RoleOperator, Org: "PLATFORM", Issuer: "creditd-test", Audience: "test-api", Now: testNow.Add(-time.Hour), TTL: time.Hour - 10*time.Second})
	opts := VerifierOptions{Issuer: "creditd-test", Audience: "test-api", Now: func() time.Time { return testNow }}
	if _, err := NewVerifier(ks, opts).Verify(tok); err == nil {
		t.Error("token expired 10s ago accepted without leeway")
	}
	opts.Leeway = 30 * time.Second
	if _, err := NewVerifier(ks, opts).Verify(tok); err != nil {
		t.Errorf("token expired 10s ago refused with 30s leeway: %v", err)
	}
}

func TestTypedJWSNotInterchangeable(t *testing.T) {
	ks := newKeys(t)
	type receipt struct {
		jwt.RegisteredClaims
		Grant string `json:"grant"`
	}
	rc := receipt{RegisteredClaims: jwt.RegisteredClaims{Issuer: DefaultIssuer, IssuedAt: jwt.NewNumericDate(testNow)}, Grant: "g-1"}
	signedReceipt, err := ks.Sign(TypeGrantReceipt, rc)
	if err != nil {
		t.Fatal(err)
	}
	access := mint(t, ks, MintParams{Role: RoleInstitution, Org: "DEMO-BANK"})
	pub, err := ParseJWKS(ks.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	at := func() time.Time { return testNow }
	cases := []struct {
		name  string
		typ   string
		token string
		ok    bool
	}{
		{"receipt as receipt", TypeGrantReceipt, signedReceipt, true},
		{"receipt as checkpoint", TypeUsageCheckpoint, signedReceipt, false},
		{"receipt as access token", TypeAccessToken, signedReceipt, false},
		{"access token as receipt", TypeGrantReceipt, access, false},
		{"access token as checkpoint", TypeUsageCheckpoint, access, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for name, keys := range map[string]JWSVerifier{"key set": ks, "JWKS": pub} {
				var got receipt
				err := keys.Verify(tc.typ, tc.token, &got, jwt.WithTimeFunc(at))
				if (err == nil) != tc.ok {
					t.Errorf("%s: Verify error = %v, want ok=%v", name, err, tc.ok)
				}
				if err != nil && !strings.Contains(err.Error(), "token type") {
					t.Errorf("%s: refused for %q, want a token type mismatch", name, err)
				}
				if tc.ok && got.Grant != "g-1" {
					t.Errorf("%s: claims %+v", name, got)
				}
			}
		})
	}
	// A caller's option cannot re-open other algorithms.
	hs := rawToken(t, jwt.SigningMethodHS256, []byte("secret"), map[string]any{"kid": ks.SigningKID(), "typ": TypeGrantReceipt}, rc)
	if err := ks.Verify(TypeGrantReceipt, hs, &receipt{}, jwt.WithValidMethods([]string{"HS256"})); err == nil {
		t.Error("HS256 accepted when the caller listed it")
	}
}

func TestMintRefuses(t *testing.T) {
	ks := newKeys(t)
	cases := []struct {
		name string
		p    MintParams
	}{
		{"unknown role", MintParams{Role: "ADMIN", Org: "X"}},
		{"no org", MintParams{Role: RoleInstitution}},
		{"enterprise with bad USCC", MintParams{Role: RoleEnterprise, Org: badCheck(validUSCC(t))}},
		{"negative ttl", MintParams{Role: RoleOperator, Org: "PLATFORM", TTL: -time.Minute}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Mint(ks, tc.p); err == nil {
				t.Error("minted")
			}
		})
	}
}

func TestMintClaims(t *testing.T) {
	ks := newKeys(t)
	tok, err := Mint(ks, MintParams{Role: RoleEnterprise, Org: strings.ToLower(validUSCC(t)), Subject: "bob", TTL: 2 * time.Hour, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	var c AccessClaims
	p, _, err := jwt.NewParser().ParseUnverified(tok, &c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Header["alg"] != "ES256" || p.Header["typ"] != TypeAccessToken || p.Header["kid"] != ks.SigningKID() {
		t.Errorf("header %v", p.Header)
	}
	if c.Issuer != DefaultIssuer || len(c.Audience) != 1 || c.Audience[0] != DefaultAudience || c.Subject != "bob" ||
		!c.IssuedAt.Equal(testNow) || !c.ExpiresAt.Equal(testNow.Add(2*time.Hour)) ||
		c.Role != RoleEnterprise || c.Org != validUSCC(t) {
		t.Errorf("claims %+v", c)
	}
}

func mustSign(t *testing.T, ks *KeySet, typ string, claims jwt.Claims) string {
	t.Helper()
	s, err := ks.Sign(typ, claims)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustSigningKey reads the private key of kid from dir, to craft headers Sign would not produce.
func mustSigningKey(t *testing.T, dir, kid string) *ecdsa.PrivateKey {
	t.Helper()
	keys, err := readKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := keys[kid]
	if !ok {
		t.Fatalf("no key %s in %s", kid, dir)
	}
	return k
}

// withClaims returns a copy of c with fields set (name, value pairs).
func withClaims(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}
