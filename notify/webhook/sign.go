package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const secretPrefix = "whsec_"

// minSecretBytes is the shortest key accepted: Standard Webhooks asks for
// 24 to 64 random bytes. Longer keys are accepted, HMAC hashes them.
const minSecretBytes = 24

// parseSecrets decodes "whsec_<base64>" secrets into HMAC keys, in order,
// without repeats. Errors name a secret by its position, never its text.
func parseSecrets(secrets []string) ([][]byte, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("no secret: a webhook is always signed (whsec_ and base64 of %d or more random bytes)", minSecretBytes)
	}
	var keys [][]byte
next:
	for i, s := range secrets {
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, secretPrefix) {
			return nil, fmt.Errorf("secret %d: does not start with %s (the Standard Webhooks format: %s and base64)", i+1, secretPrefix, secretPrefix)
		}
		key, err := base64.StdEncoding.DecodeString(s[len(secretPrefix):])
		if err != nil {
			return nil, fmt.Errorf("secret %d: what follows %s is not standard base64", i+1, secretPrefix)
		}
		if len(key) < minSecretBytes {
			return nil, fmt.Errorf("secret %d: %d bytes, want at least %d random bytes", i+1, len(key), minSecretBytes)
		}
		for _, k := range keys {
			if bytes.Equal(k, key) {
				continue next
			}
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// CheckSecret reports whether s is a secret New accepts: "whsec_" and the
// standard base64 of at least 24 bytes. The error never quotes s.
func CheckSecret(s string) error {
	_, err := parseSecrets([]string{s})
	if err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "secret 1: "))
	}
	return nil
}

// sign is the webhook-signature header: "v1,<base64 HMAC-SHA256 of
// id.timestamp.body>" for each key, space-separated, so a receiver holding
// any one of the keys verifies.
func sign(keys [][]byte, id string, ts time.Time, body []byte) string {
	var sb strings.Builder
	for i, key := range keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write(strconv.AppendInt(nil, ts.Unix(), 10))
		mac.Write([]byte{'.'})
		mac.Write(body)
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString("v1,")
		sb.WriteString(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return sb.String()
}

// NewSecret returns a fresh secret in the Standard Webhooks format: whsec_
// and the base64 of 32 random bytes.
func NewSecret() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(key), nil
}
