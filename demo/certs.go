package demo

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The demo CA's private key is derived from this constant phrase, so it is
// PUBLIC BY DESIGN: anyone can mint certificates it signs. That is what lets
// the CA certificate be committed (demo/ca.pem) and referenced by checks.yaml
// without the demo running. Trust it for the demo only, never system-wide.
const caSeedPhrase = "forewarn demo CA — not a secret, for the demo only"

// Everything in the CA template is fixed, and ed25519 signatures are
// deterministic (RFC 8032), so the certificate is byte-identical every run.
// SubjectKeyId is set explicitly because Go's default derivation changed
// between releases (SHA-1 before 1.25, truncated SHA-256 since).
func caTemplate(pub ed25519.PublicKey) *x509.Certificate {
	skid := sha256.Sum256(pub)
	return &x509.Certificate{
		SerialNumber:          big.NewInt(2025),
		Subject:               pkix.Name{Organization: []string{"forewarn demo"}, CommonName: "forewarn demo CA (public key, demo only)"},
		NotBefore:             time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          skid[:20],
	}
}

type demoCA struct {
	cert *x509.Certificate
	key  ed25519.PrivateKey
	pem  []byte
}

// theCA is the CA, built once.
var theCA = sync.OnceValue(newCA)

// newCA derives the CA. Its inputs are constants, so failure is a bug.
func newCA() *demoCA {
	seed := sha256.Sum256([]byte(caSeedPhrase))
	key := ed25519.NewKeyFromSeed(seed[:])
	pub := key.Public().(ed25519.PublicKey)
	der, err := x509.CreateCertificate(rand.Reader, caTemplate(pub), caTemplate(pub), pub, key)
	if err != nil {
		panic("demo: creating the CA certificate: " + err.Error())
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic("demo: parsing the CA certificate: " + err.Error())
	}
	return &demoCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// CAPEM returns the demo CA certificate in PEM form, identical on every run
// and equal to the committed demo/ca.pem.
func CAPEM() []byte {
	return append([]byte(nil), theCA().pem...)
}

var serialLimit = new(big.Int).Lsh(big.NewInt(1), 127)

// issueLeaf signs a server certificate for dnsName and 127.0.0.1 with a fresh
// key. ed25519 keeps generation to tens of microseconds.
func issueLeaf(dnsName string, notBefore, notAfter time.Time) (*tls.Certificate, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, serialLimit)
	if err != nil {
		return nil, err
	}
	ca := theCA()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"forewarn demo"}, CommonName: dnsName},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{dnsName},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		return nil, fmt.Errorf("issuing certificate for %s: %w", dnsName, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf}, nil
}

const (
	leafLifetime = 90 * day
	leafRenewal  = 30 * day // reissue a cached certificate this close to expiry
)

// leafCache holds one name's certificate, issued on first use so that 10,000
// tenants cost nothing at start. Concurrent first uses may both issue; one
// wins, which is cheaper than a lock on every handshake.
type leafCache struct {
	name string
	cert atomic.Pointer[tls.Certificate]
}

func (c *leafCache) get(now time.Time) (*tls.Certificate, error) {
	old := c.cert.Load()
	if old != nil && old.Leaf.NotAfter.Sub(now) > leafRenewal {
		return old, nil
	}
	cert, err := issueLeaf(c.name, now.Add(-time.Hour), now.Add(leafLifetime))
	if err != nil {
		return nil, err
	}
	if c.cert.CompareAndSwap(old, cert) {
		return cert, nil
	}
	return c.cert.Load(), nil
}

// TLSConfig returns the configuration of the TLS listener: the certificate is
// chosen by SNI ({id}.demo.forewarn.test); without SNI (a client dialling
// 127.0.0.1) a generic demo.forewarn.test certificate, also valid for
// 127.0.0.1, is presented. HTTP/1.1 only, so the down fault can hijack.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: s.getCertificate,
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
	}
}

func (s *Server) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	if name == "" {
		return s.noSNI.get(time.Now())
	}
	id, ok := strings.CutSuffix(name, dnsSuffix)
	a := s.tenants[id]
	if !ok || a == nil {
		return nil, fmt.Errorf("demo: no tenant for server name %q", hello.ServerName)
	}
	if f := a.fault.Load(); f != nil && f.cert != nil {
		return f.cert, nil
	}
	return a.leaf.get(time.Now())
}
