package demo

import (
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestAPIKeyFormat(t *testing.T) {
	k := APIKey(testPassword, "acme", 7)
	if k != APIKey(testPassword, "acme", 7) {
		t.Fatal("APIKey is not deterministic")
	}
	if !regexp.MustCompile(`^fwk_7\.[0-9a-f]{32}$`).MatchString(k) {
		t.Errorf("key %q", k)
	}
	for _, other := range []string{APIKey(testPassword, "acme", 8), APIKey(testPassword, "globex", 7), APIKey("other", "acme", 7)} {
		if other[len(other)-32:] == k[len(k)-32:] {
			t.Errorf("%q and %q share a MAC", k, other)
		}
	}
}

func TestAPIKeys(t *testing.T) {
	s, ts := newSignInServer(t)
	base := ts.URL + "/t/acme"
	key := APIKey(testPassword, "acme", 1)
	mac := key[len(key)-32:]
	flipped := "0"
	if strings.HasSuffix(key, "0") {
		flipped = "1"
	}
	tests := []struct {
		name, key string
		want      int
	}{
		{"first", key, 200},
		{"last", APIKey(testPassword, "acme", MaxAPIKeys), 200},
		{"zero", APIKey(testPassword, "acme", 0), 401},
		{"past the last", APIKey(testPassword, "acme", MaxAPIKeys+1), 401},
		{"negative", APIKey(testPassword, "acme", -1), 401},
		{"wrong MAC", key[:len(key)-1] + flipped, 401},
		{"other number's MAC", "fwk_2." + mac, 401},
		{"leading zero", "fwk_01." + mac, 401},
		{"plus sign", "fwk_+1." + mac, 401},
		{"short MAC", key[:len(key)-1], 401},
		{"upper-case MAC", "fwk_1." + strings.ToUpper(mac), 401},
		{"no prefix", strings.TrimPrefix(key, "fwk_"), 401},
		{"other tenant's key", APIKey(testPassword, "globex", 1), 401},
		{"other password", APIKey("nope", "acme", 1), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(tt.key)...)
			if r.code != tt.want {
				t.Errorf("GET /api/me with %q: %d %q, want %d", tt.key, r.code, r.body, tt.want)
			}
			if r.code == 200 && r.body != `{"user":"synthetic@acme.example","tenant":"acme","plan":"enterprise"}`+"\n" {
				t.Errorf("GET /api/me: %q", r.body)
			}
		})
	}
	if r := send(t, http.DefaultClient, http.MethodGet, base+"/home", "", "", bearer(key)...); r.code != 200 || !strings.Contains(r.body, "Welcome, synthetic@acme.example") {
		t.Errorf("GET /home with a key: %d %q", r.code, r.body)
	}
	if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/items", "", "", bearer(key)...); r.code != 200 {
		t.Errorf("GET /api/items with a key: %d", r.code)
	}
	// Each key is a session of its own for the capacity model; signing a
	// key out frees its slot and leaves it valid.
	if st, _ := s.Load("acme"); st.Slots != 2 {
		t.Errorf("slots after keys 1 and %d: %d, want 2", MaxAPIKeys, st.Slots)
	}
	if r := send(t, http.DefaultClient, http.MethodDelete, base+"/api/session", "", "", bearer(key)...); r.code != 204 {
		t.Errorf("DELETE /api/session with a key: %d", r.code)
	}
	if st, _ := s.Load("acme"); st.Slots != 1 {
		t.Errorf("slots after signing key 1 out: %d, want 1", st.Slots)
	}
	if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(key)...); r.code != 200 {
		t.Errorf("key after sign-out: %d", r.code)
	}
	// Keys derive from the password: wrong_credentials rejects them too.
	if _, err := s.SetFault("acme", Fault{Mode: ModeWrongCredentials}); err != nil {
		t.Fatal(err)
	}
	if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(APIKey(testPassword, "acme", 3))...); r.code != 401 {
		t.Errorf("key under wrong_credentials: %d", r.code)
	}
}

// A tenant with a password of its own has keys of its own.
func TestAPIKeysPerTenantPassword(t *testing.T) {
	s, err := New(Options{Tenants: 2, Password: "shared", Passwords: map[string]string{"acme": "own"}})
	if err != nil {
		t.Fatal(err)
	}
	acme, globex := s.tenants["acme"], s.tenants["globex"]
	if !acme.validAPIKey(APIKey("own", "acme", 5)) || acme.validAPIKey(APIKey("shared", "acme", 5)) ||
		!globex.validAPIKey(APIKey("shared", "globex", 5)) {
		t.Error("keys do not follow the tenants' passwords")
	}
}

func BenchmarkAPIKeyMe(b *testing.B) {
	s, err := New(Options{Tenants: 1, Password: testPassword, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	req, _ := http.NewRequest(http.MethodGet, "/t/acme/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+APIKey(testPassword, "acme", 1))
	w := &bufWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
		if w.code != 200 {
			b.Fatalf("%d %s", w.code, w.buf.String())
		}
	}
}
