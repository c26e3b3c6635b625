package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writeKey writes a fresh PKCS#8 key of curve to dir/<kid>.pem and returns it.
func writeKey(t *testing.T, dir, kid string, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, kid+".pem"), "PRIVATE KEY", der)
	return key
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newKeys returns a development key set in a fresh directory.
func newKeys(t *testing.T) *KeySet {
	t.Helper()
	ks, err := LoadKeys(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestLoadKeysCreatesInDevelopmentMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	ks, err := LoadKeys(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^k-\d{8}-\d{6}-[0-9a-f]{8}$`).MatchString(ks.SigningKID()) {
		t.Errorf("kid %q does not have the k-YYYYMMDD-HHMMSS-hex form", ks.SigningKID())
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o700 {
		t.Errorf("key dir mode %o, want 700", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != ks.SigningKID()+".pem" {
		t.Fatalf("key dir holds %v, want only %s.pem", entries, ks.SigningKID())
	}
	fi, err := os.Stat(filepath.Join(dir, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode %o, want 600", got)
	}

	// Reloading, even outside development mode, gives the same key.
	again, err := LoadKeys(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if again.SigningKID() != ks.SigningKID() {
		t.Errorf("reloaded kid %q, want %q", again.SigningKID(), ks.SigningKID())
	}
	tok, err := Mint(ks, MintParams{Role: RoleOperator, Org: "PLATFORM"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(again, VerifierOptions{}).Verify(tok); err != nil {
		t.Errorf("token of the first load refused after reload: %v", err)
	}
	// A second development-mode load does not add a key.
	if _, err := LoadKeys(dir, true); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("development reload created keys: %d files", len(entries))
	}
}

func TestLoadKeysRefusesWithoutKeys(t *testing.T) {
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "README.txt"), []byte("keys go here"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{
		"missing dir": filepath.Join(t.TempDir(), "absent"),
		"empty dir":   empty,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadKeys(dir, false)
			if err == nil {
				t.Fatal("loaded keys from a directory without keys")
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name %s", err, dir)
			}
			if name == "missing dir" {
				if _, statErr := os.Stat(dir); !os.IsNotExist(statErr) {
					t.Errorf("directory was created outside development mode")
				}
			}
		})
	}
	if _, err := LoadKeys("", true); err == nil {
		t.Error("empty key directory accepted")
	}
}

func TestLoadKeysSigningKeyIsNewest(t *testing.T) {
	dir := t.TempDir()
	writeKey(t, dir, "k-20250101-000000-aaaaaaaa", elliptic.P256())
	writeKey(t, dir, "k-20261127-000000-bbbbbbbb", elliptic.P256())
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o600); err != nil {
		t.Fatal(err)
	}
	ks, err := LoadKeys(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ks.SigningKID(), "k-20261127-000000-bbbbbbbb"; got != want {
		t.Errorf("signing kid %q, want %q", got, want)
	}
	if got := ks.Public().KIDs(); len(got) != 2 {
		t.Errorf("kids %v, want both keys", got)
	}

	// A token signed with the older key (before rotation) still verifies.
	oldDir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(dir, "k-20250101-000000-aaaaaaaa.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(oldDir, "k-20250101-000000-aaaaaaaa.pem"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	old, err := LoadKeys(oldDir, false)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Mint(old, MintParams{Role: RoleOperator, Org: "PLATFORM"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(ks, VerifierOptions{}).Verify(tok); err != nil {
		t.Errorf("token of the older key refused: %v", err)
	}
}

func TestLoadKeysRejectsBadFiles(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"P-384 key", func(t *testing.T, dir string) { writeKey(t, dir, "k1", elliptic.P384()) }, "P-256"},
		{"RSA key", func(t *testing.T, dir string) {
			der, err := x509.MarshalPKCS8PrivateKey(rsaKey)
			if err != nil {
				t.Fatal(err)
			}
			writePEM(t, filepath.Join(dir, "k1.pem"), "PRIVATE KEY", der)
		}, "P-256"},
		{"SEC1 key", func(t *testing.T, dir string) {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			der, err := x509.MarshalECPrivateKey(key)
			if err != nil {
				t.Fatal(err)
			}
			writePEM(t, filepath.Join(dir, "k1.pem"), "EC PRIVATE KEY", der)
		}, "PKCS#8"},
		{"not PEM", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "k1.pem"), []byte("hello"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "no PEM block"},
		{"bad kid", func(t *testing.T, dir string) { writeKey(t, dir, "bad kid!", elliptic.P256()) }, "kid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			_, err := LoadKeys(dir, true)
			if err == nil {
				t.Fatal("bad key file accepted")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q should name the file and mention %q", err, tc.want)
			}
		})
	}
}

func TestJWKS(t *testing.T) {
	ks := newKeys(t)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(ks.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	for field, want := range map[string]string{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": ks.SigningKID()} {
		if k[field] != want {
			t.Errorf("JWKS %s = %q, want %q", field, k[field], want)
		}
	}
	for _, c := range []string{"x", "y"} {
		if b, err := base64.RawURLEncoding.DecodeString(k[c]); err != nil || len(b) != 32 {
			t.Errorf("JWKS %s = %q, want 32 base64url bytes", c, k[c])
		}
	}
	if _, ok := k["d"]; ok {
		t.Error("JWKS carries the private key")
	}

	// The published set verifies tokens and receipts.
	pub, err := ParseJWKS(ks.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tok, err := Mint(ks, MintParams{Role: RoleInstitution, Org: "DEMO-BANK", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(pub, VerifierOptions{Now: func() time.Time { return now }}).Verify(tok)
	if err != nil || v.Org != "DEMO-BANK" {
		t.Errorf("JWKS verification: %+v, %v", v, err)
	}
	other := newKeys(t)
	forged, err := Mint(other, MintParams{Role: RoleInstitution, Org: "DEMO-BANK", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(pub, VerifierOptions{Now: func() time.Time { return now }}).Verify(forged); err == nil {
		t.Error("JWKS verified a token of a key it does not hold")
	}
}

func TestParseJWKSRejects(t *testing.T) {
	good := func(t *testing.T) map[string]any {
		t.Helper()
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(newKeys(t).JWKS(), &set); err != nil {
			t.Fatal(err)
		}
		return set.Keys[0]
	}
	enc := func(t *testing.T, keys ...map[string]any) []byte {
		b, err := json.Marshal(map[string]any{"keys": keys})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	with := func(k map[string]any, field string, value any) map[string]any {
		c := map[string]any{}
		for f, v := range k {
			c[f] = v
		}
		if value == nil {
			delete(c, field)
		} else {
			c[field] = value
		}
		return c
	}
	rsaOnly := map[string]any{"kty": "RSA", "kid": "r1", "n": "AQAB", "e": "AQAB"}
	cases := []struct {
		name string
		data func(t *testing.T) []byte
		ok   bool
	}{
		{"not JSON", func(t *testing.T) []byte { return []byte("{") }, false},
		{"no keys", func(t *testing.T) []byte { return []byte(`{"keys":[]}`) }, false},
		{"only RSA", func(t *testing.T) []byte { return enc(t, rsaOnly) }, false},
		{"RSA skipped beside EC", func(t *testing.T) []byte { return enc(t, rsaOnly, good(t)) }, true},
		{"private member", func(t *testing.T) []byte { return enc(t, with(good(t), "d", "AAAA")) }, false},
		{"missing kid", func(t *testing.T) []byte { return enc(t, with(good(t), "kid", nil)) }, false},
		{"short x", func(t *testing.T) []byte { return enc(t, with(good(t), "x", "AAAA")) }, false},
		{"point off curve", func(t *testing.T) []byte {
			return enc(t, with(good(t), "y", base64.RawURLEncoding.EncodeToString(make([]byte, 32))))
		}, false},
		{"duplicate kid", func(t *testing.T) []byte {
			k := good(t)
			return enc(t, k, with(good(t), "kid", k["kid"]))
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJWKS(tc.data(t))
			if (err == nil) != tc.ok {
				t.Errorf("ParseJWKS error = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestJWKSHandler(t *testing.T) {
	ks := newKeys(t)
	h := ks.JWKSHandler()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=300") {
		t.Errorf("Cache-Control %q, want a short max-age", cc)
	}
	if rec.Body.String() != string(ks.JWKS()) {
		t.Errorf("body %s, want the JWKS", rec.Body)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/.well-known/jwks.json", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST status %d, want 405", rec.Code)
	}
}
