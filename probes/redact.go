package probes

import (
	"net/url"
	"sort"
	"strings"
)

// Redacted replaces a secret wherever it would be shown.
const Redacted = "<secret>"

// Redact replaces every secret in s, and its URL-escaped forms, with
// Redacted. Longer secrets are replaced first so that a secret containing
// another is not half-masked. Secrets shorter than 3 bytes are still masked:
// a leaked short password is worse than an odd-looking message.
func Redact(s string, secrets []string) string {
	if len(secrets) == 0 || s == "" {
		return s
	}
	forms := make([]string, 0, len(secrets)*3)
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		forms = append(forms, sec, url.QueryEscape(sec), url.PathEscape(sec))
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	for _, f := range forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, Redacted)
		}
	}
	return s
}
