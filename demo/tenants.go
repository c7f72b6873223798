package demo

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// MaxTenants bounds Options.Tenants: the benchmark's size.
const MaxTenants = 10_000

// Tenant is one simulated customer, described as forewarn's checks.yaml does.
type Tenant struct {
	ID     string // slug; the path segment in /t/{id} and the SNI label
	Name   string
	Seats  int    // contracted concurrent users
	Plan   string // enterprise, business or starter
	Region string // eu-west, us-east or ap-south
	Public bool   // may be named on the public status page
}

// BaseURL is the tenant's base URL under a demo HTTP (or HTTPS) base such as
// "http://127.0.0.1:8081".
func (t Tenant) BaseURL(base string) string {
	return strings.TrimRight(base, "/") + "/t/" + t.ID
}

// ServerName is the TLS server name (SNI) that selects a tenant's certificate.
func ServerName(id string) string { return id + dnsSuffix }

const dnsSuffix = ".demo.forewarn.test"

// namedTenants are the first tenants, realistic enough for a quickstart.
var namedTenants = []Tenant{
	{ID: "acme", Name: "Acme Corp", Seats: 500, Plan: "enterprise", Region: "eu-west", Public: true},
	{ID: "globex", Name: "Globex Corporation", Seats: 250, Plan: "business", Region: "us-east", Public: true},
	{ID: "initech", Name: "Initech", Seats: 120, Plan: "business", Region: "us-east"},
	{ID: "umbrella", Name: "Umbrella Corporation", Seats: 1500, Plan: "enterprise", Region: "eu-west"},
	{ID: "hooli", Name: "Hooli", Seats: 2000, Plan: "enterprise", Region: "us-east"},
	{ID: "soylent", Name: "Soylent Corp", Seats: 40, Plan: "starter", Region: "ap-south"},
	{ID: "stark", Name: "Stark Industries", Seats: 800, Plan: "enterprise", Region: "us-east"},
	{ID: "wayne", Name: "Wayne Enterprises", Seats: 600, Plan: "enterprise", Region: "us-east"},
	{ID: "wonka", Name: "Wonka Industries", Seats: 75, Plan: "business", Region: "eu-west"},
	{ID: "cyberdyne", Name: "Cyberdyne Systems", Seats: 300, Plan: "business", Region: "us-east"},
	{ID: "tyrell", Name: "Tyrell Corporation", Seats: 450, Plan: "enterprise", Region: "ap-south"},
	{ID: "oscorp", Name: "Oscorp", Seats: 150, Plan: "business", Region: "us-east"},
	{ID: "massive-dynamic", Name: "Massive Dynamic", Seats: 350, Plan: "enterprise", Region: "eu-west"},
	{ID: "vandelay", Name: "Vandelay Industries", Seats: 15, Plan: "starter", Region: "us-east"},
	{ID: "pied-piper", Name: "Pied Piper", Seats: 25, Plan: "starter", Region: "us-east"},
	{ID: "dunder-mifflin", Name: "Dunder Mifflin", Seats: 60, Plan: "business", Region: "us-east"},
	{ID: "prestige", Name: "Prestige Worldwide", Seats: 10, Plan: "starter", Region: "ap-south"},
	{ID: "gringotts", Name: "Gringotts", Seats: 200, Plan: "business", Region: "eu-west"},
	{ID: "aperture", Name: "Aperture Science", Seats: 90, Plan: "business", Region: "ap-south"},
	{ID: "weyland", Name: "Weyland-Yutani", Seats: 1000, Plan: "enterprise", Region: "ap-south"},
}

var regions = []string{"eu-west", "us-east", "ap-south"}

// Tenants returns the first n demo tenants: the same list for the same n, and
// Tenants(n) is a prefix of Tenants(m) for n < m.
func Tenants(n int) []Tenant {
	if n <= 0 {
		return nil
	}
	ts := make([]Tenant, n)
	for i := range ts {
		if i < len(namedTenants) {
			ts[i] = namedTenants[i]
			continue
		}
		ts[i] = generatedTenant(i + 1)
	}
	return ts
}

// generatedTenant derives tenant number i (1-based) from a hash of its id, so
// plans, seats and regions look mixed but never change between runs.
func generatedTenant(i int) Tenant {
	id := fmt.Sprintf("tenant-%05d", i)
	h := fnv.New32a()
	h.Write([]byte(id))
	x := h.Sum32()
	t := Tenant{ID: id, Name: fmt.Sprintf("Tenant %05d", i), Region: regions[x%3]}
	switch p := (x / 3) % 10; {
	case p == 0: // one in ten
		t.Plan, t.Seats = "enterprise", 250+int(x/30%1750)
	case p <= 3: // three in ten
		t.Plan, t.Seats = "business", 50+int(x/30%200)
	default:
		t.Plan, t.Seats = "starter", 5+int(x/30%45)
	}
	return t
}
