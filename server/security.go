package server

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// minTokenLen is the shortest token accepted in a token file: a token is a
// password that clients send on every request, and a short one can be
// guessed.
const minTokenLen = 16

// tokenSet holds the SHA-256 digests of the accepted tokens. Comparing
// digests of equal length keeps the comparison's time independent of the
// tokens' lengths and contents.
type tokenSet struct{ digests [][sha256.Size]byte }

// readTokens reads a token file: one token a line, surrounding spaces
// trimmed, blank lines and lines starting with # skipped.
func readTokens(path string) (*tokenSet, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("server: token file: %w", err)
	}
	ts := &tokenSet{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if len(t) < minTokenLen {
			return nil, fmt.Errorf("server: token file %s, line %d: a token of %d characters is too short to be secret (at least %d)", path, line, len(t), minTokenLen)
		}
		if strings.ContainsAny(t, " \t") {
			return nil, fmt.Errorf("server: token file %s, line %d: a token cannot hold spaces", path, line)
		}
		ts.digests = append(ts.digests, sha256.Sum256([]byte(t)))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("server: token file %s: %w", path, err)
	}
	if len(ts.digests) == 0 {
		return nil, fmt.Errorf("server: token file %s holds no token", path)
	}
	return ts, nil
}

// allows reports whether the token is one of the set. Every token is
// compared, whatever matched, in constant time.
func (ts *tokenSet) allows(token string) bool {
	d := sha256.Sum256([]byte(token))
	ok := 0
	for i := range ts.digests {
		ok |= subtle.ConstantTimeCompare(d[:], ts.digests[i][:])
	}
	return ok == 1
}

// authorize checks the request's bearer token when tokens are configured.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) error {
	ts := s.tokens.Load()
	if ts == nil {
		return nil
	}
	h := r.Header.Get("Authorization")
	scheme, token, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || !ts.allows(strings.TrimSpace(token)) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="oddity"`)
		if h == "" {
			return &apiError{status: http.StatusUnauthorized, msg: "this server needs an Authorization: Bearer header"}
		}
		return &apiError{status: http.StatusUnauthorized, msg: "the bearer token is not accepted"}
	}
	return nil
}

// tlsConfig returns the server's TLS configuration, nil without TLS. The
// certificate is looked up per handshake, so that Reload can renew it.
func (s *Server) tlsConfig() (*tls.Config, error) {
	if s.opt.TLSCert == "" {
		return nil, nil
	}
	c := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := s.cert.Load(); c != nil {
				return c, nil
			}
			return nil, errors.New("no certificate")
		},
	}
	if s.opt.TLSClientCA != "" {
		pem, err := os.ReadFile(s.opt.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("server: client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("server: client CA %s holds no PEM certificate", s.opt.TLSClientCA)
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}
