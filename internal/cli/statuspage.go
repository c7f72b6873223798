package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/statuspage"
)

type statusPageCmd struct {
	Links statusLinksCmd `cmd:"" help:"Print each tenant's private status page link: give it to that customer only."`
}

type statusLinksCmd struct {
	Config string `short:"c" help:"Path to checks.yaml." default:"checks.yaml" type:"path"`
	Tenant string `arg:"" optional:"" help:"Only this tenant."`
}

func (c statusLinksCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return configFailure(e, err)
	}
	// Without a configured secret, the tokens derive from the one forewarn
	// run generated and keeps in the store.
	_, st, closeHistory, err := openHistory(e, cfg)
	if err != nil {
		return err
	}
	defer closeHistory()
	sp := cfg.StatusPage
	var secret []byte
	if sp.Secret != "" {
		secret = []byte(sp.Secret)
	}
	srv, err := statuspage.New(statuspage.Options{Store: st, Tenants: func() []config.Tenant { return cfg.Tenants },
		Secret: secret, Tokens: sp.Tokens, Generations: sp.Generations, Title: sp.Title, BaseURL: sp.BaseURL, Logger: e.log})
	if err != nil {
		fmt.Fprintln(e.stderr, "forewarn:", err)
		return failure{ExitRuntime}
	}
	defer srv.Close()
	base := sp.BaseURL
	if base == "" {
		base = "http://" + cfg.Listen
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	found := false
	for _, t := range cfg.Tenants {
		if c.Tenant != "" && t.ID != c.Tenant {
			continue
		}
		found = true
		fmt.Fprintf(tw, "%s\t%s/t/%s\n", t.ID, base, srv.TenantToken(t.ID))
	}
	tw.Flush()
	if !found {
		return usage(e, "no tenant %q in %s", c.Tenant, c.Config)
	}
	return nil
}
