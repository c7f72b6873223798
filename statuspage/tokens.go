package statuspage

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/forewarn/forewarn/store"
)

// secretKey is where a secret made by forewarn itself is kept.
const secretKey = "statuspage/secret"

const (
	// tokenChars is a derived token's length: 32 base64url characters,
	// 192 bits of an HMAC-SHA256.
	tokenChars = 32
	// minTokenChars is the shortest configured token: 22 base64url
	// characters, 132 bits.
	minTokenChars = 22
	maxTokenChars = 128
)

// keptSecret loads the secret kept in the store, or makes and keeps one.
// Two instances starting at once on one empty database may each keep their
// own, the last one winning: configure a secret when running several.
func keptSecret(ctx context.Context, st Store) ([]byte, error) {
	b, err := st.LoadState(ctx, secretKey)
	switch {
	case err == nil && len(b) >= 32:
		return b, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	b = make([]byte, 32)
	rand.Read(b)
	if err := st.SaveState(ctx, secretKey, b); err != nil {
		return nil, err
	}
	return b, nil
}

// deriveToken is base64url(HMAC-SHA256(secret, "tenant:<id>:<generation>")),
// cut to 32 characters.
func deriveToken(secret []byte, id string, generation int) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("tenant:" + id + ":" + strconv.Itoa(generation)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:tokenChars]
}

// checkTokens validates configured tokens: long enough to be unguessable,
// URL-safe, and not shared by two tenants.
func checkTokens(tokens map[string]string) (map[string]string, error) {
	ids := make([]string, 0, len(tokens))
	for id := range tokens {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	owner := map[string]string{}
	out := make(map[string]string, len(tokens))
	for _, id := range ids {
		t := tokens[id]
		if !tokenShape(t) {
			return nil, fmt.Errorf("statuspage: the token of tenant %q must be %d to %d characters of A-Z a-z 0-9 - _ (at least 128 bits)",
				id, minTokenChars, maxTokenChars)
		}
		if o, dup := owner[t]; dup {
			return nil, fmt.Errorf("statuspage: tenants %q and %q have the same token", o, id)
		}
		owner[t], out[id] = id, t
	}
	return out, nil
}

func tokenShape(t string) bool {
	if len(t) < minTokenChars || len(t) > maxTokenChars {
		return false
	}
	for _, c := range []byte(t) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// TenantToken is the secret of the tenant's private page, /t/{token}: the
// configured one, or one derived from the server secret and the tenant's
// generation. It does not check that the tenant exists.
func (s *Server) TenantToken(id string) string {
	if t, ok := s.tokens[id]; ok {
		return t
	}
	return deriveToken(s.secret, id, s.o.Generations[id])
}

// tokenIndex finds a tenant by its token. It is keyed by the token's
// SHA-256, so the lookup's timing depends on a hash of what was sent, not
// on how many of its leading characters are right.
type tokenIndex map[[sha256.Size]byte]string

func (s *Server) indexTokens(ids []string) tokenIndex {
	ix := make(tokenIndex, len(ids))
	for _, id := range ids {
		ix[sha256.Sum256([]byte(s.TenantToken(id)))] = id
	}
	return ix
}

// tenantOf returns the tenant id a token belongs to.
func (s *Server) tenantOf(token string) (string, bool) {
	if len(token) > maxTokenChars {
		token = token[:maxTokenChars+1] // still hashed: the same work for every wrong token
	}
	id, ok := s.snap().tokens[sha256.Sum256([]byte(token))]
	return id, ok
}
