package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/forewarn/forewarn/notify/webhook"
)

// TestReceiverVerifies: a receiver using the Standard Webhooks reference
// library verifies forewarn's signature, whichever of the two secrets of a
// rotation it knows, and refuses a tampered body, an unknown secret and a
// replay from long ago.
func TestReceiverVerifies(t *testing.T) {
	type received struct {
		body   []byte
		header http.Header
	}
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{body, r.Header.Clone()}
	}))
	defer srv.Close()
	n := newNotifier(t, webhook.Options{URL: srv.URL, Secrets: []string{oldSecret, newSecret}})
	if err := n.Deliver(context.Background(), sampleEvent()); err != nil {
		t.Fatal(err)
	}
	req := <-got

	verify := func(secret string, body []byte, h http.Header) error {
		t.Helper()
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		return wh.Verify(body, h)
	}
	for name, secret := range map[string]string{"old only": oldSecret, "new only": newSecret} {
		if err := verify(secret, req.body, req.header); err != nil {
			t.Errorf("a receiver knowing the %s secret: %v", name, err)
		}
	}
	other, _ := webhook.NewSecret()
	if err := verify(other, req.body, req.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("another secret: %v, want no matching signature", err)
	}
	tampered := append([]byte(nil), req.body...)
	tampered[len(tampered)-2] ^= 1
	if err := verify(newSecret, tampered, req.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("tampered body: %v, want no matching signature", err)
	}
	// The same request replayed an hour later is refused by its timestamp.
	stale := newNotifier(t, webhook.Options{URL: srv.URL, Secrets: []string{newSecret},
		Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	if err := stale.Deliver(context.Background(), sampleEvent()); err != nil {
		t.Fatal(err)
	}
	old := <-got
	if err := verify(newSecret, old.body, old.header); !errors.Is(err, standardwebhooks.ErrMessageTooOld) {
		t.Errorf("an hour-old timestamp: %v, want too old", err)
	}
}
