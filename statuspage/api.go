package statuspage

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"
)

// apiVersion is the JSON API's schema version (schema/*.schema.json). It
// changes only when a field changes meaning or goes away; fields are added
// without a new version.
const apiVersion = 1

type apiStatus struct {
	Version     int               `json:"version"`
	Title       string            `json:"title"`
	GeneratedAt time.Time         `json:"generated_at"`
	CheckedAt   *time.Time        `json:"checked_at"`
	Status      apiState          `json:"status"`
	Uptime      apiUptime         `json:"uptime"`
	Components  []apiComponent    `json:"components"`
	Tenants     []apiPublicTenant `json:"tenants"`
	Incidents   []apiIncident     `json:"incidents"`
	Maintenance []apiMaintenance  `json:"maintenance"`
}

type apiState struct {
	State       State  `json:"state"`
	Description string `json:"description"`
}

type apiUptime struct {
	D7  *float64 `json:"7d"`
	D30 *float64 `json:"30d"`
	D90 *float64 `json:"90d"`
}

type apiDay struct {
	Date      string   `json:"date"`
	Runs      int64    `json:"runs"`
	Successes int64    `json:"successes"`
	Uptime    *float64 `json:"uptime"`
	Incidents int      `json:"incidents"`
}

type apiComponent struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Region     string    `json:"region"`
	RegionName string    `json:"region_name"`
	Capability string    `json:"capability"`
	State      State     `json:"state"`
	Uptime     apiUptime `json:"uptime"`
	Days       []apiDay  `json:"days"`
}

type apiPublicTenant struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Region string    `json:"region"`
	State  State     `json:"state"`
	Uptime apiUptime `json:"uptime"`
	Days   []apiDay  `json:"days"`
}

type apiRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type apiIncident struct {
	ID         string     `json:"id"`
	Title      string     `json:"title"`
	Body       string     `json:"body"`
	State      string     `json:"state"` // open, resolved
	Impact     string     `json:"impact"`
	Published  bool       `json:"published"`
	StartedAt  time.Time  `json:"started_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Components []apiRef   `json:"components"`
	Tenants    []apiRef   `json:"tenants"`
	Updates    []Update   `json:"updates"`
}

type apiMaintenance struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	State       string     `json:"state"` // scheduled, in_progress
	Start       time.Time  `json:"start"`
	End         *time.Time `json:"end"`
	Components  []apiRef   `json:"components"`
	Tenants     []apiRef   `json:"tenants"`
}

// jsonResponse encodes v; encoding/json escapes <, > and & in strings, so
// the JSON is inert even if served as HTML by mistake.
func (s *Server) jsonResponse(v any, cache string) *response {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("status page: JSON encoding failed", "error", err)
		return s.assets.unavailable
	}
	return newResponse(http.StatusOK, "application/json", cache, append(b, '\n'))
}

func (s *Server) publicJSON(m *publicModel) apiStatus {
	out := apiStatus{Version: apiVersion, Title: m.Title, GeneratedAt: m.Built, CheckedAt: timePtr(m.Checked),
		Status: apiState{m.State, m.State.Summary()}, Uptime: apiUptimeOf(m.Uptime),
		Components: []apiComponent{}, Tenants: []apiPublicTenant{}, Incidents: []apiIncident{},
		Maintenance: apiMaintenanceOf(m.Maintenance)}
	for _, c := range m.Components {
		out.Components = append(out.Components, apiComponent{ID: c.ID, Name: c.Name, Region: c.Region,
			RegionName: c.RegionName, Capability: c.Capability, State: c.State, Uptime: apiUptimeOf(c.Uptime), Days: apiDays(c.Days)})
	}
	for _, c := range m.Tenants {
		out.Tenants = append(out.Tenants, apiPublicTenant{ID: c.ID, Name: c.Name, Region: c.Region, State: c.State,
			Uptime: apiUptimeOf(c.Uptime), Days: apiDays(c.Days)})
	}
	for _, in := range listed(m.Open, m.History) {
		out.Incidents = append(out.Incidents, apiIncidentOf(in))
	}
	return out
}

// listed are the incidents the API and feeds carry: every open one and
// the latest 100 others, in a new slice (models are shared by renders).
func listed(open, history []*incident) []*incident {
	out := make([]*incident, 0, len(open)+min(len(history), 100))
	out = append(out, open...)
	return append(out, history[:min(len(history), 100)]...)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func apiUptimeOf(u uptime) apiUptime {
	return apiUptime{nullableRatio(u.D7), nullableRatio(u.D30), nullableRatio(u.D90)}
}

func apiDays(ds []day) []apiDay {
	out := make([]apiDay, len(ds))
	for i, d := range ds {
		out[i] = apiDay{Date: d.Date.Format("2006-01-02"), Runs: d.Runs, Successes: d.OK,
			Uptime: nullableRatio(counts{d.Runs, d.OK}), Incidents: d.Incidents}
	}
	return out
}

func apiRefs(rs []ref) []apiRef {
	out := make([]apiRef, len(rs))
	for i, r := range rs {
		out[i] = apiRef{r.ID, r.Name}
	}
	return out
}

func apiIncidentOf(in *incident) apiIncident {
	st := "resolved"
	if in.Open {
		st = "open"
	}
	updates := in.Updates
	if updates == nil {
		updates = []Update{}
	}
	return apiIncident{ID: in.ID, Title: in.Title, Body: strings.Join(in.Body, "\n\n"), State: st, Impact: in.Kind,
		Published: in.Published, StartedAt: in.Start.UTC(), ResolvedAt: timePtr(in.End), UpdatedAt: in.Updated.UTC(),
		Components: apiRefs(in.Components), Tenants: apiRefs(in.Tenants), Updates: updates}
}

func apiMaintenanceOf(ms []*maintView) []apiMaintenance {
	out := []apiMaintenance{}
	for _, mv := range ms {
		st := "scheduled"
		if mv.InProgress {
			st = "in_progress"
		}
		out = append(out, apiMaintenance{ID: mv.ID, Title: mv.Title, Description: mv.Reason, State: st,
			Start: mv.Start.UTC(), End: timePtr(mv.End), Components: apiRefs(mv.Components), Tenants: apiRefs(mv.Tenants)})
	}
	return out
}

type apiTenantStatus struct {
	Version     int              `json:"version"`
	Title       string           `json:"title"`
	GeneratedAt time.Time        `json:"generated_at"`
	CheckedAt   *time.Time       `json:"checked_at"`
	Tenant      apiTenant        `json:"tenant"`
	Status      apiState         `json:"status"`
	Uptime      apiUptime        `json:"uptime"`
	Checks      []apiCheck       `json:"checks"`
	Capacity    []apiCapacity    `json:"capacity"`
	Incidents   []apiIncident    `json:"incidents"`
	Maintenance []apiMaintenance `json:"maintenance"`
}

type apiTenant struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Region string `json:"region"`
	Seats  int    `json:"seats"`
}

type apiCheck struct {
	Name          string     `json:"name"`
	Kind          string     `json:"kind"`
	Capability    string     `json:"capability"`
	State         State      `json:"state"`
	Uptime        apiUptime  `json:"uptime"`
	Latency24h    apiLatency `json:"latency_24h"`
	Days          []apiDay   `json:"days"`
	ResponseTimes []apiHour  `json:"response_times"`
}

type apiLatency struct {
	Successes int64    `json:"successes"`
	MeanMS    *float64 `json:"mean_ms"`
	P50MS     *float64 `json:"p50_ms"`
	P95MS     *float64 `json:"p95_ms"`
}

type apiHour struct {
	Start     time.Time `json:"start"`
	Runs      int64     `json:"runs"`
	Successes int64     `json:"successes"`
	MeanMS    *float64  `json:"mean_ms"`
	P50MS     *float64  `json:"p50_ms"`
	P95MS     *float64  `json:"p95_ms"`
}

type apiCapacity struct {
	Check      string          `json:"check"`
	MeasuredAt time.Time       `json:"measured_at"`
	Knee       int             `json:"knee"`
	KneeAtMax  bool            `json:"knee_at_max"`
	BreakAt    *int            `json:"break_at"`
	Seats      int             `json:"seats"`
	Required   int             `json:"required"`
	Passed     bool            `json:"passed"`
	Trend      string          `json:"trend"`
	Runs       []apiKneeSample `json:"runs"`
}

type apiKneeSample struct {
	Time time.Time `json:"time"`
	Knee int       `json:"knee"`
}

func msPtr(d time.Duration, ok bool) *float64 {
	if !ok {
		return nil
	}
	f := math.Round(ms(d)*1000) / 1000
	return &f
}

func (s *Server) tenantJSON(m *tenantModel) apiTenantStatus {
	out := apiTenantStatus{Version: apiVersion, Title: m.Title, GeneratedAt: m.Built, CheckedAt: timePtr(m.Checked),
		Tenant: apiTenant{m.Tenant.ID, m.Tenant.Name, m.Tenant.Region, m.Tenant.Seats},
		Status: apiState{m.State, m.State.TenantSummary()}, Uptime: apiUptimeOf(m.Uptime),
		Checks: []apiCheck{}, Capacity: []apiCapacity{}, Incidents: []apiIncident{}, Maintenance: apiMaintenanceOf(m.Maintenance)}
	for _, c := range m.Checks {
		l := c.Latency
		ac := apiCheck{Name: c.Name, Kind: c.Kind, Capability: c.Capability, State: c.State, Uptime: apiUptimeOf(c.Uptime),
			Latency24h: apiLatency{l.Runs, msPtr(l.Mean, l.HasData()), msPtr(l.P50, l.HasData()), msPtr(l.P95, l.HasData())},
			Days:       apiDays(c.Days), ResponseTimes: []apiHour{}}
		for _, h := range c.hours {
			ok := h.Successes > 0
			ac.ResponseTimes = append(ac.ResponseTimes, apiHour{Start: h.Start.UTC(), Runs: h.Runs, Successes: h.Successes,
				MeanMS: msPtr(h.Mean, ok), P50MS: msPtr(h.P50, ok), P95MS: msPtr(h.P95, ok)})
		}
		out.Checks = append(out.Checks, ac)
	}
	for _, c := range m.Capacity {
		ac := apiCapacity{Check: c.Check, MeasuredAt: c.MeasuredAt.UTC(), Knee: c.Knee, KneeAtMax: c.AtMax, Seats: c.Seats,
			Required: c.Required, Passed: c.Passed, Trend: c.TrendWord, Runs: []apiKneeSample{}}
		if c.BreakAt > 0 {
			b := c.BreakAt
			ac.BreakAt = &b
		}
		for _, p := range c.Trend {
			ac.Runs = append(ac.Runs, apiKneeSample{p.Time.UTC(), p.Knee})
		}
		out.Capacity = append(out.Capacity, ac)
	}
	for _, in := range listed(m.Open, m.History) {
		out.Incidents = append(out.Incidents, apiIncidentOf(in))
	}
	return out
}
