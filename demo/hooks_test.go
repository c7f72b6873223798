package demo

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestHooksVerifiesAndKeepsCaseWebhooks(t *testing.T) {
	s, err := New(Options{Tenants: 1, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	body := []byte(`{"version":"1","id":"acme-1:1","type":"case.opened","check":"health",
		"case":{"id":"acme-1","kind":"outage","severity":"critical","status":"open","tenant":{"id":"acme"}}}`)
	post := func(secret string) int {
		wh, _ := standardwebhooks.NewWebhook(secret)
		now := time.Now()
		sig, _ := wh.Sign("acme-1:1", now, body)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/hooks/forewarn", bytes.NewReader(body))
		req.Header.Set("webhook-id", "acme-1:1")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); code != http.StatusUnauthorized {
		t.Errorf("a webhook signed with another secret: %d, want 401", code)
	}
	if code := post(DefaultHookSecret); code != http.StatusNoContent {
		t.Errorf("a webhook signed with the demo secret: %d, want 204", code)
	}
	hooks, err := HooksRemote(context.Background(), srv.URL)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("hooks %+v, %v", hooks, err)
	}
	if h := hooks[0]; h.Type != "case.opened" || h.Tenant != "acme" || h.Case != "acme-1" || h.ID != "acme-1:1" || h.Kind != "outage" {
		t.Errorf("hook %+v", h)
	}
}
