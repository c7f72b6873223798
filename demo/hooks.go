package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The demo is also the vendor's ticketing system: it receives forewarn's
// case webhooks at POST /hooks/forewarn, verifies their Standard Webhooks
// signature with HookSecret, and keeps the latest ones for
// GET /admin/hooks (forewarn demo hooks).

// DefaultHookSecret verifies the demo's webhooks unless HookSecretEnv sets
// another. Like the demo CA, it is public: never use it anywhere else.
const DefaultHookSecret = "whsec_ZGVtby1vbmx5LWZvcmV3YXJuLXdlYmhvb2stc2VjcmV0" // "demo-only-forewarn-webhook-secret"

// HookSecretEnv names the environment variable forewarn demo reads the
// webhook secret from; checks.yaml signs with the same variable.
const HookSecretEnv = "FOREWARN_DEMO_WEBHOOK_SECRET"

// maxHooks bounds the webhooks kept; the oldest go first.
const maxHooks = 500

// Hook is one case webhook the demo received.
type Hook struct {
	ID       string    `json:"id"` // webhook-id
	Received time.Time `json:"received"`
	Type     string    `json:"type"`
	Tenant   string    `json:"tenant"`
	Case     string    `json:"case"`
	Kind     string    `json:"kind"`
	Severity string    `json:"severity"`
	Status   string    `json:"status"`
	Check    string    `json:"check,omitempty"`
}

type hookInbox struct {
	wh   *standardwebhooks.Webhook
	mu   sync.Mutex
	list []Hook
}

func newHookInbox(secret string) (*hookInbox, error) {
	if secret == "" {
		secret = DefaultHookSecret
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	return &hookInbox{wh: wh}, nil
}

// receive verifies and keeps one webhook: 204, or 401 for a bad
// signature (a 4xx forewarn does not retry).
func (s *Server) receiveHook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, err)
		return
	}
	if err := s.hooks.wh.Verify(body, r.Header); err != nil {
		writeError(w, http.StatusUnauthorized, fmt.Errorf("signature: %w", err))
		return
	}
	var ev struct {
		Type  string `json:"type"`
		Check string `json:"check"`
		Case  struct {
			ID       string `json:"id"`
			Kind     string `json:"kind"`
			Severity string `json:"severity"`
			Status   string `json:"status"`
			Tenant   struct {
				ID string `json:"id"`
			} `json:"tenant"`
		} `json:"case"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("invalid JSON: %w", err))
		return
	}
	h := Hook{ID: r.Header.Get("webhook-id"), Received: time.Now().UTC(), Type: ev.Type, Tenant: ev.Case.Tenant.ID,
		Case: ev.Case.ID, Kind: ev.Case.Kind, Severity: ev.Case.Severity, Status: ev.Case.Status, Check: ev.Check}
	s.hooks.mu.Lock()
	s.hooks.list = append(s.hooks.list, h)
	if len(s.hooks.list) > maxHooks {
		s.hooks.list = s.hooks.list[len(s.hooks.list)-maxHooks:]
	}
	s.hooks.mu.Unlock()
	s.log.Info("webhook received", "type", h.Type, "tenant", h.Tenant, "case", h.Case, "kind", h.Kind, "id", h.ID)
	w.WriteHeader(http.StatusNoContent)
}

// Hooks returns the webhooks received, oldest first.
func (s *Server) Hooks() []Hook {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return append([]Hook(nil), s.hooks.list...)
}

func (s *Server) listHooks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Hooks())
}

// HooksRemote lists the webhooks a running demo at base received.
func HooksRemote(ctx context.Context, base string) ([]Hook, error) {
	var out []Hook
	err := adminCall(ctx, http.MethodGet, base, "/admin/hooks", nil, &out)
	return out, err
}
