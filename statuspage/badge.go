package statuspage

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"
)

var stateColors = map[State]string{
	StateOperational: "#2da44e", StateMaintenance: "#0969da", StateDegraded: "#bf8700",
	StatePartialOutage: "#e16f24", StateMajorOutage: "#cf222e", StateUnknown: "#9f9f9f",
}

// badgeResponse draws a status or uptime badge in the flat style of
// shields.io, so it sits well next to others in a README.
func (s *Server) badgeResponse(st State, u uptime, file string, public bool) *response {
	label, value, color := "status", badgeState(st), stateColors[st]
	if w := badgeWindow(file); w > 0 {
		c, _ := u.window(w)
		label = "uptime " + strconv.Itoa(w) + "d"
		if c.runs == 0 {
			value, color = "no data", stateColors[StateUnknown]
		} else {
			value, color = pct(ratio(c)), stateColors[uptimeState(ratio(c))]
		}
	}
	cache := s.privateCache()
	if public {
		cache = s.publicCache()
	}
	return newResponse(http.StatusOK, "image/svg+xml", cache, badgeSVG(label, value, color))
}

func badgeState(st State) string {
	switch st {
	case StateOperational:
		return "operational"
	case StateMaintenance:
		return "maintenance"
	case StateDegraded:
		return "degraded"
	case StatePartialOutage:
		return "partial outage"
	case StateMajorOutage:
		return "major outage"
	}
	return "no data"
}

// textWidth estimates Verdana 11px: about 7 px a character.
func textWidth(s string) int { return 7*utf8.RuneCountInString(s) + 10 }

func badgeSVG(label, value, color string) []byte {
	lw, vw := textWidth(label), textWidth(value)
	w := lw + vw
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	l, v := esc(label), esc(value)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`, w, l, v)
	fmt.Fprintf(&b, `<title>%s: %s</title>`, l, v)
	b.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&b, `<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`, w)
	fmt.Fprintf(&b, `<g clip-path="url(#r)"><rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`,
		lw, lw, vw, color, w)
	b.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`)
	fmt.Fprintf(&b, `<text x="%d" y="14">%s</text><text x="%d" y="14">%s</text></g></svg>`, lw/2, l, lw+vw/2, v)
	b.WriteString("\n")
	return b.Bytes()
}
