package webhook_test

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"sync"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Example_receiver is the receiver of docs/webhooks.md: it verifies the
// signature with the Standard Webhooks library, drops repeats by
// webhook-id and answers 2xx quickly. Keep the two in step.
func Example_receiver() {
	wh, err := standardwebhooks.NewWebhook(os.Getenv("FOREWARN_WEBHOOK_SECRET")) // "whsec_…"
	if err != nil {
		log.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen = map[string]bool{} // use your database: ids must outlive a restart
	)
	http.HandleFunc("POST /hooks/forewarn", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		// Checks the signature and that webhook-timestamp is within 5 minutes.
		if err := wh.Verify(body, r.Header); err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var event struct {
			Version string `json:"version"`
			ID      string `json:"id"`
			Type    string `json:"type"`
			Test    bool   `json:"test"`
			Case    struct {
				ID     string `json:"id"`
				Seq    int    `json:"seq"`
				Status string `json:"status"`
			} `json:"case"`
		}
		if err := json.Unmarshal(body, &event); err != nil || event.Version != "1" {
			http.Error(w, "unsupported event", http.StatusBadRequest)
			return
		}
		mu.Lock()
		repeat := seen[event.ID]
		seen[event.ID] = true
		mu.Unlock()
		if repeat || event.Test {
			w.WriteHeader(http.StatusNoContent) // delivered before: acknowledge, do nothing
			return
		}
		// Open or update the ticket for event.Case.ID here (or queue it and
		// answer at once: forewarn waits 10 s at most).
		w.WriteHeader(http.StatusNoContent)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:9000", nil))
}
