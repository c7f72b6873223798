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
	// Capacity is how many concurrent users (sessions in use) the tenant
	// serves well; past it, users queue and are refused (capacity.go). 0 is
	// unlimited. It is what a load check's knee should find: most tenants
	// have room above their seats, a few (acme first) break below them.
	Capacity int
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
// Acme is the story: 500 seats sold, 150 users served. Initech, soylent and
// wonka also break below their seats; the others serve 1.2–1.5 times theirs.
var namedTenants = []Tenant{
	{ID: "acme", Name: "Acme Corp", Seats: 500, Capacity: 150, Plan: "enterprise", Region: "eu-west", Public: true},
	{ID: "globex", Name: "Globex Corporation", Seats: 250, Capacity: 350, Plan: "business", Region: "us-east", Public: true},
	{ID: "initech", Name: "Initech", Seats: 120, Capacity: 90, Plan: "business", Region: "us-east"},
	{ID: "umbrella", Name: "Umbrella Corporation", Seats: 1500, Capacity: 2000, Plan: "enterprise", Region: "eu-west"},
	{ID: "hooli", Name: "Hooli", Seats: 2000, Capacity: 2500, Plan: "enterprise", Region: "us-east"},
	{ID: "soylent", Name: "Soylent Corp", Seats: 40, Capacity: 30, Plan: "starter", Region: "ap-south"},
	{ID: "stark", Name: "Stark Industries", Seats: 800, Capacity: 1000, Plan: "enterprise", Region: "us-east"},
	{ID: "wayne", Name: "Wayne Enterprises", Seats: 600, Capacity: 800, Plan: "enterprise", Region: "us-east"},
	{ID: "wonka", Name: "Wonka Industries", Seats: 75, Capacity: 60, Plan: "business", Region: "eu-west"},
	{ID: "cyberdyne", Name: "Cyberdyne Systems", Seats: 300, Capacity: 400, Plan: "business", Region: "us-east"},
	{ID: "tyrell", Name: "Tyrell Corporation", Seats: 450, Capacity: 600, Plan: "enterprise", Region: "ap-south"},
	{ID: "oscorp", Name: "Oscorp", Seats: 150, Capacity: 200, Plan: "business", Region: "us-east"},
	{ID: "massive-dynamic", Name: "Massive Dynamic", Seats: 350, Capacity: 500, Plan: "enterprise", Region: "eu-west"},
	{ID: "vandelay", Name: "Vandelay Industries", Seats: 15, Capacity: 20, Plan: "starter", Region: "us-east"},
	{ID: "pied-piper", Name: "Pied Piper", Seats: 25, Capacity: 35, Plan: "starter", Region: "us-east"},
	{ID: "dunder-mifflin", Name: "Dunder Mifflin", Seats: 60, Capacity: 80, Plan: "business", Region: "us-east"},
	{ID: "prestige", Name: "Prestige Worldwide", Seats: 10, Capacity: 15, Plan: "starter", Region: "ap-south"},
	{ID: "gringotts", Name: "Gringotts", Seats: 200, Capacity: 250, Plan: "business", Region: "eu-west"},
	{ID: "aperture", Name: "Aperture Science", Seats: 90, Capacity: 120, Plan: "business", Region: "ap-south"},
	{ID: "weyland", Name: "Weyland-Yutani", Seats: 1000, Capacity: 1500, Plan: "enterprise", Region: "ap-south"},
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
	t.Capacity = generatedCapacity(id, t.Seats)
	return t
}

// generatedCapacity derives a generated tenant's capacity from its seats and a
// second hash of its id (the first one's bits are spent on plan and seats):
// one tenant in eight serves 60–90% of its seats, the others 120–150%,
// rounded as a vendor's sizing would be.
func generatedCapacity(id string, seats int) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	h.Write([]byte("/capacity"))
	y := h.Sum32()
	below := y%8 == 0
	pct := 120 + int(y/8%31)
	if below {
		pct = 60 + int(y/8%31)
	}
	c := (seats*pct + 50) / 100
	switch {
	case c >= 200:
		c = (c + 5) / 10 * 10
	case c >= 50:
		c = (c + 2) / 5 * 5
	}
	// Rounding must not carry a small tenant across its seats.
	if below {
		return max(min(c, seats-1), 1)
	}
	return max(c, seats+1)
}
