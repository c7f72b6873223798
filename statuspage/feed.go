package statuspage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"strings"
	"time"
)

// Atom (RFC 4287), written with encoding/xml: every text is escaped, and
// characters XML cannot hold are replaced.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title     string         `xml:"title"`
	ID        string         `xml:"id"`
	Updated   string         `xml:"updated"`
	Published string         `xml:"published"`
	Links     []atomLink     `xml:"link"`
	Category  []atomCategory `xml:"category"`
	Content   atomText       `xml:"content"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// urn is a stable name URI for a key: a name-based UUID (version 5 layout)
// from its SHA-256, so entry ids survive restarts.
func urn(key string) string {
	sum := sha256.Sum256([]byte(key))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Server) url(path string) string { return s.o.BaseURL + path }

func (s *Server) publicFeed(m *publicModel) *response {
	f := s.feed(m.Title+" · incidents", urn(s.publicID("feed:public")), "/", "/feed.atom", listed(m.Open, m.History), m.Built)
	return s.feedResponse(f, s.publicCache())
}

func (s *Server) tenantFeed(m *tenantModel) *response {
	base := "/t/" + m.Token
	f := s.feed(m.Tenant.Name+" · "+m.Title+" · incidents", urn(s.publicID("feed:tenant:"+m.Tenant.ID)), base, base+"/feed.atom",
		listed(m.Open, m.History), m.Built)
	return s.feedResponse(f, s.privateCache())
}

func (s *Server) feed(title, id, page, self string, incidents []*incident, built time.Time) atomFeed {
	f := atomFeed{Title: title, ID: id, Author: atomPerson{s.o.Title},
		Links: []atomLink{{Href: s.url(page), Rel: "alternate", Type: "text/html"},
			{Href: s.url(self), Rel: "self", Type: "application/atom+xml"}}}
	var latest time.Time
	for _, in := range incidents {
		updated := in.Updated
		if updated.IsZero() || updated.Before(in.Start) {
			updated = in.Start
		}
		if updated.After(latest) {
			latest = updated
		}
		state := "resolved"
		if in.Open {
			state = "open"
		}
		f.Entries = append(f.Entries, atomEntry{Title: in.Title, ID: urn("entry:" + in.ID), Updated: atomTime(updated),
			Published: atomTime(in.Start), Links: []atomLink{{Href: s.url(page) + "#incident-" + in.ID, Rel: "alternate"}},
			Category: []atomCategory{{state}, {in.Kind}}, Content: atomText{"text", entryText(in)}})
	}
	if latest.IsZero() {
		latest = built
	}
	f.Updated = atomTime(latest)
	return f
}

// entryText is an incident as plain text.
func entryText(in *incident) string {
	var b strings.Builder
	b.WriteString(in.Impact())
	if in.Open {
		b.WriteString(", open since " + stamp{T: in.Start}.UTC())
	} else {
		b.WriteString(", from " + stamp{T: in.Start}.UTC() + " to " + stamp{T: in.End}.UTC())
	}
	b.WriteString(".")
	var names []string
	for _, r := range append(append([]ref(nil), in.Components...), in.Tenants...) {
		names = append(names, r.Name)
	}
	if len(names) > 0 {
		b.WriteString("\nAffects: " + strings.Join(names, ", ") + ".")
	}
	for _, p := range in.Body {
		b.WriteString("\n\n" + p)
	}
	for _, u := range in.Updates {
		b.WriteString("\n\n" + stamp{T: u.Time}.UTC() + ": " + u.Text)
	}
	return b.String()
}

func (s *Server) feedResponse(f atomFeed, cache string) *response {
	b, err := xml.MarshalIndent(f, "", " ")
	if err != nil {
		s.log.Error("status page: feed encoding failed", "error", err)
		return s.assets.unavailable
	}
	return newResponse(http.StatusOK, "application/atom+xml; charset=utf-8", cache, append([]byte(xml.Header), append(b, '\n')...))
}
