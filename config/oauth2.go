package config

import (
	"cmp"
	"slices"

	"github.com/forewarn/forewarn/probes"
	"gopkg.in/yaml.v3"
)

var oauth2Keys = []string{"grant", "token_url", "client_id", "client_secret", "scopes", "username", "password", "var", "auth_style"}

// The ways a client can send its credentials to the token endpoint (RFC
// 6749 §2.3.1): header (HTTP Basic, which every server must accept) or
// params (in the form body). Naming one sends one request; guessing would
// send two to a server that wants the other.
var authStyles = []string{"header", "params"}

// oauth2Def is a token request step. Its fields are templates expanded per
// tenant at load, like an http check's: a token request comes before the
// values that steps extract.
type oauth2Def struct {
	grant                                      string
	tokenURL, clientID, clientSecret, username *tmpl
	password                                   *tmpl
	scopes                                     []*tmpl
	authStyle                                  string
	v                                          varDef // where the token goes
}

func (d *decoder) decodeOAuth2(n *yaml.Node, field string) *oauth2Def {
	m := d.fields(n, field, "oauth2", oauth2Keys)
	if m == nil {
		return nil
	}
	d.required(n, m, field, "grant", "token_url")
	o := &oauth2Def{
		grant:        d.str(m["grant"], join(field, "grant")),
		tokenURL:     d.template(m["token_url"], join(field, "token_url")),
		clientID:     d.template(m["client_id"], join(field, "client_id")),
		clientSecret: d.template(m["client_secret"], join(field, "client_secret")),
		username:     d.template(m["username"], join(field, "username")),
		password:     d.template(m["password"], join(field, "password")),
		scopes:       d.templates(m["scopes"], join(field, "scopes")),
		authStyle:    cmp.Or(d.str(m["auth_style"], join(field, "auth_style")), "header"),
		v:            varDef{name: "access_token", at: at(n, field)},
	}
	if !slices.Contains(authStyles, o.authStyle) {
		d.errorf(m["auth_style"], join(field, "auth_style"), "unknown auth_style %q (want header or params)", o.authStyle)
	}
	switch o.grant {
	case probes.GrantClientCredentials:
		d.required(n, m, field, "client_id")
		for _, k := range []string{"username", "password"} {
			if v := value(m[k]); v != nil {
				d.errorf(v, join(field, k), "%s is for the password grant", k)
			}
		}
	case probes.GrantPassword:
		d.required(n, m, field, "username", "password")
	case "": // missing: reported
	default:
		d.errorf(m["grant"], join(field, "grant"), "unknown grant %q (known grants: client_credentials, password)", o.grant)
	}
	if v := d.scalar(m["var"], join(field, "var"), "a variable name"); v != nil {
		o.v = varDef{name: v.Value, at: at(v, join(field, "var"))}
		if !isVarName(v.Value) {
			d.errorf(v, join(field, "var"), "invalid variable name: use letters, digits and _ (it is read as {{ .Extracted.name }})")
			o.v.name = ""
		}
	}
	d.checkLoadOnly(o.templates())
	return o
}

func (o *oauth2Def) templates() []*tmpl {
	return append([]*tmpl{o.tokenURL, o.clientID, o.clientSecret, o.username, o.password}, o.scopes...)
}

func (o *oauth2Def) expand(x *expansion) *probes.OAuth2Grant {
	return &probes.OAuth2Grant{
		Grant:        o.grant,
		TokenURL:     x.url(o.tokenURL),
		ClientID:     x.exec(o.clientID),
		ClientSecret: x.exec(o.clientSecret),
		Username:     x.exec(o.username),
		Password:     x.exec(o.password),
		Scopes:       x.execAll(o.scopes),
		AuthStyle:    o.authStyle,
		Var:          o.v.name,
	}
}
