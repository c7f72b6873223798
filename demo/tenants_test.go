package demo

import (
	"regexp"
	"slices"
	"testing"
	"time"
)

func TestTenantsDeterministic(t *testing.T) {
	a, b := Tenants(100), Tenants(100)
	if !slices.Equal(a, b) {
		t.Fatal("Tenants(100) differs between calls")
	}
	if !slices.Equal(Tenants(30), a[:30]) {
		t.Error("Tenants(30) is not a prefix of Tenants(100)")
	}
	if a[0].ID != "acme" || a[0].Name != "Acme Corp" || a[20].ID != "tenant-00021" {
		t.Errorf("first tenants: %+v, %+v", a[0], a[20])
	}
	public := 0
	for _, tn := range a[:20] {
		if tn.Public {
			public++
		}
	}
	if public < 2 {
		t.Errorf("%d public tenants among the first 20, want ≥ 2", public)
	}
	if Tenants(0) != nil {
		t.Error("Tenants(0) not nil")
	}
}

func TestTenantsMany(t *testing.T) {
	start := time.Now()
	ts := Tenants(MaxTenants)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Tenants(%d) took %s", MaxTenants, d)
	}
	slug := regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	seen := make(map[string]bool, len(ts))
	for _, tn := range ts {
		if seen[tn.ID] {
			t.Fatalf("duplicate id %q", tn.ID)
		}
		seen[tn.ID] = true
		if !slug.MatchString(tn.ID) || tn.Name == "" || tn.Seats <= 0 ||
			!slices.Contains([]string{"enterprise", "business", "starter"}, tn.Plan) ||
			!slices.Contains(regions, tn.Region) {
			t.Fatalf("bad tenant %+v", tn)
		}
	}
}
