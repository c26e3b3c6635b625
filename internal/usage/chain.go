package usage

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// TypeCheckpoint is the JWS "typ" of signed checkpoints (auth.TypeUsageCheckpoint).
const TypeCheckpoint = "usage-checkpoint+jwt"

// Signer signs checkpoints: *auth.KeySet.
type Signer interface {
	Sign(typ string, claims jwt.Claims) (string, error)
}

// Verifier checks checkpoint signatures: *auth.PublicKeys or *auth.KeySet.
type Verifier interface {
	Verify(typ, token string, claims jwt.Claims, opts ...jwt.ParserOption) error
}

// Checkpoint is a signed statement of a provider's chain: its size and head hash at a time.
type Checkpoint struct {
	Size      int64     `json:"size"`
	Head      string    `json:"head"` // hex SHA-256
	At        time.Time `json:"at"`
	Signature string    `json:"signature"` // compact JWS of CheckpointClaims, typ usage-checkpoint+jwt
}

// CheckpointClaims are the claims of a checkpoint's JWS.
type CheckpointClaims struct {
	Provider string    `json:"provider"`
	Size     int64     `json:"size"`
	Head     string    `json:"head"`
	At       time.Time `json:"at"`
	jwt.RegisteredClaims
}

// VerifyCheckpoint checks a checkpoint's signature with keys and returns its claims.
func VerifyCheckpoint(keys Verifier, token string) (CheckpointClaims, error) {
	var c CheckpointClaims
	if err := keys.Verify(TypeCheckpoint, token, &c); err != nil {
		return CheckpointClaims{}, err
	}
	return c, nil
}

// eventDomain separates event hashes from any other use of SHA-256.
const eventDomain = "creditd/usage-event/v1"

// canonical is the byte string an event contributes to its provider's chain: the domain tag,
// then every stored field in column order, strings length-prefixed (uint32 big-endian), the id
// and grant as 16 raw bytes, the time as int64 Unix microseconds, nullable fields preceded by a
// presence byte.
func canonical(e Event) []byte {
	b := make([]byte, 0, 256)
	str := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	id := uuid.MustParse(e.ID)
	str(eventDomain)
	b = append(b, id[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UnixMicro()))
	for _, s := range []string{e.Institution, e.Actor, e.USCC, e.Item, e.Provider, string(e.Action)} {
		str(s)
	}
	if e.Purpose == "" {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		str(e.Purpose)
	}
	if e.GrantID == "" {
		b = append(b, 0)
	} else {
		g := uuid.MustParse(e.GrantID)
		b = append(b, 1)
		b = append(b, g[:]...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(int64(e.RecordCount)))
	str(e.RequestID)
	return b
}

// link returns the chain hash after prev: SHA-256(prev || canonical(e)).
func link(prev []byte, e Event) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(canonical(e))
	return h.Sum(nil)
}

// genesis returns the hash before a chain's first event: 32 zero bytes.
func genesis() []byte { return make([]byte, sha256.Size) }
