// Package auth verifies access tokens, holds the platform's signing keys, signs and verifies
// typed JWS (access tokens, grant receipts, usage checkpoints) and puts the caller's Viewer in
// the request context.
package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Algorithm is the only JWS algorithm the platform signs with and accepts.
const Algorithm = "ES256"

// kidPattern restricts key ids (file names) to a safe, header-friendly alphabet.
var kidPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// KeySet is the platform's signing key and all keys that verify its signatures. It is immutable.
type KeySet struct {
	signKID string
	signKey *ecdsa.PrivateKey
	public  *PublicKeys
}

// PublicKeys is a set of ES256 verification keys by kid: the platform's own keys
// ((*KeySet).Public) or keys read from a published JWKS (ParseJWKS). It is immutable.
type PublicKeys struct {
	keys map[string]*ecdsa.PublicKey
	jwks []byte
}

// LoadKeys reads every <kid>.pem (PKCS#8 EC P-256 private key) in dir. When dir holds no key
// and createIfMissing is set (development mode), it creates dir (0700) and one key; otherwise
// a missing or empty dir is an error. The signing key is the last kid in sort order.
func LoadKeys(dir string, createIfMissing bool) (*KeySet, error) {
	if dir == "" {
		return nil, errors.New("signing key directory is not set (CREDITD_KEY_DIR)")
	}
	keys, err := readKeys(dir)
	if err != nil && !(errors.Is(err, fs.ErrNotExist) && createIfMissing) {
		return nil, err
	}
	if len(keys) == 0 {
		if !createIfMissing {
			return nil, fmt.Errorf("no signing keys in %s: add a <kid>.pem PKCS#8 P-256 key (keys are created automatically only in development mode)", dir)
		}
		if _, err := CreateKey(dir, time.Now()); err != nil {
			return nil, err
		}
		if keys, err = readKeys(dir); err != nil {
			return nil, err
		}
	}
	return newKeySet(keys)
}

// CreateKey writes a new P-256 key to dir (created 0700 if needed) as <kid>.pem, mode 0600,
// and returns its kid, of the form k-20261127-153045-<random hex>, so that newer keys sort
// last and become the signing key at the next LoadKeys.
func CreateKey(dir string, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create key directory %s: %w", dir, err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("create key id: %w", err)
	}
	kid := "k-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("encode key: %w", err)
	}
	// Write to a temporary name first so that a concurrent LoadKeys never reads half a key.
	tmp, err := os.CreateTemp(dir, ".key-*.tmp") // mode 0600
	if err != nil {
		return "", fmt.Errorf("create key in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write key in %s: %w", dir, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write key in %s: %w", dir, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, kid+".pem")); err != nil {
		return "", fmt.Errorf("save key in %s: %w", dir, err)
	}
	return kid, nil
}

// readKeys reads the <kid>.pem files of dir. Hidden files and directories are skipped; symbolic
// links (as in mounted secrets) are followed.
func readKeys(dir string) (map[string]*ecdsa.PrivateKey, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read signing key directory %s: %w", dir, err)
	}
	keys := map[string]*ecdsa.PrivateKey{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".pem") {
			continue
		}
		path := filepath.Join(dir, name)
		if info, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("signing key %s: %w", path, err)
		} else if !info.Mode().IsRegular() {
			continue
		}
		kid := strings.TrimSuffix(name, ".pem")
		if !kidPattern.MatchString(kid) {
			return nil, fmt.Errorf("signing key %s: file name must be <kid>.pem with kid of letters, digits, '.', '_', '-' (at most 64)", path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", path, err)
		}
		key, err := parsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", path, err)
		}
		keys[kid] = key
	}
	return keys, nil
}

func parsePrivateKey(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	switch {
	case block == nil:
		return nil, errors.New("no PEM block")
	case block.Type == "EC PRIVATE KEY":
		return nil, errors.New("SEC1 \"EC PRIVATE KEY\" found; convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)")
	case block.Type != "PRIVATE KEY":
		return nil, fmt.Errorf("PEM block %q, want \"PRIVATE KEY\" (PKCS#8)", block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#8: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not an EC P-256 key (only ES256 is supported)")
	}
	return ec, nil
}

func newKeySet(priv map[string]*ecdsa.PrivateKey) (*KeySet, error) {
	pub := make(map[string]*ecdsa.PublicKey, len(priv))
	for kid, k := range priv {
		pub[kid] = &k.PublicKey
	}
	public, err := newPublicKeys(pub)
	if err != nil {
		return nil, err
	}
	kids := public.KIDs()
	signKID := kids[len(kids)-1]
	return &KeySet{signKID: signKID, signKey: priv[signKID], public: public}, nil
}

// SigningKID is the kid of the key that Sign uses.
func (k *KeySet) SigningKID() string { return k.signKID }

// Public returns the verification keys of k.
func (k *KeySet) Public() *PublicKeys { return k.public }

// JWKS returns the public keys as an RFC 7517 JSON Web Key Set.
func (k *KeySet) JWKS() []byte { return k.public.JWKS() }

// JWKSHandler serves the public keys for GET /.well-known/jwks.json.
func (k *KeySet) JWKSHandler() http.Handler {
	body := k.public.jwks
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		// Short, so that a key rotation reaches verifiers quickly.
		w.Header().Set("Cache-Control", "public, max-age=300")
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}

// jwk is one RFC 7517 key; only EC public members are produced.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	D   string `json:"d,omitempty"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

func newPublicKeys(keys map[string]*ecdsa.PublicKey) (*PublicKeys, error) {
	if len(keys) == 0 {
		return nil, errors.New("no keys")
	}
	p := &PublicKeys{keys: keys}
	set := jwkSet{Keys: []jwk{}}
	for _, kid := range p.KIDs() {
		b, err := keys[kid].Bytes() // 0x04 || X || Y
		if err != nil || len(b) != 65 {
			return nil, fmt.Errorf("key %s: not a P-256 public key", kid)
		}
		set.Keys = append(set.Keys, jwk{
			Kty: "EC", Crv: "P-256", Kid: kid, Alg: Algorithm, Use: "sig",
			X: base64.RawURLEncoding.EncodeToString(b[1:33]),
			Y: base64.RawURLEncoding.EncodeToString(b[33:]),
		})
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	p.jwks = jwks
	return p, nil
}

// ParseJWKS reads an RFC 7517 JSON Web Key Set, such as the one served at
// /.well-known/jwks.json, for verification. Keys that are not EC P-256 signature keys for ES256
// are skipped; a malformed P-256 key, a missing or repeated kid, private key material, or a set
// without any usable key is an error.
func ParseJWKS(data []byte) (*PublicKeys, error) {
	var set jwkSet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for i, k := range set.Keys {
		if k.Kty != "EC" || k.Crv != "P-256" || (k.Alg != "" && k.Alg != Algorithm) || (k.Use != "" && k.Use != "sig") {
			continue
		}
		if k.D != "" {
			return nil, fmt.Errorf("JWKS key %d: contains private key material", i)
		}
		if !kidPattern.MatchString(k.Kid) {
			return nil, fmt.Errorf("JWKS key %d: missing or invalid kid", i)
		}
		if _, dup := keys[k.Kid]; dup {
			return nil, fmt.Errorf("JWKS key %s: kid appears twice", k.Kid)
		}
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, fmt.Errorf("JWKS key %s: x and y must be 32-byte base64url values", k.Kid)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), slices.Concat([]byte{4}, x, y))
		if err != nil {
			return nil, fmt.Errorf("JWKS key %s: %w", k.Kid, err)
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS has no EC P-256 ES256 signature key")
	}
	return newPublicKeys(keys)
}

// KIDs returns the key ids in sort order.
func (p *PublicKeys) KIDs() []string {
	kids := make([]string, 0, len(p.keys))
	for kid := range p.keys {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	return kids
}

// Key returns the verification key with kid.
func (p *PublicKeys) Key(kid string) (*ecdsa.PublicKey, bool) {
	k, ok := p.keys[kid]
	return k, ok
}

// JWKS returns the keys as an RFC 7517 JSON Web Key Set.
func (p *PublicKeys) JWKS() []byte { return slices.Clone(p.jwks) }
