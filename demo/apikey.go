package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// API keys are ready credentials for a load test's virtual users, so they
// need not sign in: Authorization: Bearer <key> works wherever a session
// token does. Each tenant has MaxAPIKeys of them, derived from its password,
// and each is a session of its own for the capacity model.
//
// A key is "fwk_<n>.<mac>", mac the first 32 hex digits of
// HMAC-SHA256(password, id + "/" + n). The number in the clear lets the demo
// check a key with one HMAC and a constant-time compare, keeping no state
// per key; the dot keeps keys apart from session tokens (base64url).

// MaxAPIKeys is how many API keys each tenant accepts: numbers 1 to it.
const MaxAPIKeys = 10_000

const (
	apiKeyPrefix = "fwk_"
	apiKeyMACLen = 32
)

// APIKey returns tenant id's API key number n (1 to MaxAPIKeys) for the
// tenant's password. Keys numbered outside that range are never accepted.
func APIKey(password, id string, n int) string {
	num := strconv.Itoa(n)
	return apiKeyPrefix + num + "." + apiKeyMAC(password, id, num)
}

func apiKeyMAC(password, id, num string) string {
	m := hmac.New(sha256.New, []byte(password))
	m.Write([]byte(id + "/" + num))
	return hex.EncodeToString(m.Sum(nil))[:apiKeyMACLen]
}

// validAPIKey reports whether key is one of the tenant's API keys. The
// wrong_credentials fault rejects keys too: they derive from the password.
func (a *tenantApp) validAPIKey(key string) bool {
	rest, ok := strings.CutPrefix(key, apiKeyPrefix)
	if !ok {
		return false
	}
	num, mac, ok := strings.Cut(rest, ".")
	n, err := strconv.Atoi(num)
	// One spelling per number: no "+7" or "007".
	if !ok || err != nil || n < 1 || n > MaxAPIKeys || strconv.Itoa(n) != num || len(mac) != apiKeyMACLen {
		return false
	}
	return equal(mac, apiKeyMAC(a.creds.password, a.ID, num)) == 1 && !a.signInFault().rejectCredentials
}
