package agency

import "crypto/x509"

// Key is one version of an agency's service key (a Vault Transit key of its
// own, pakn-agency-<code>, never exportable) with the certificate the issuing CA gave it: what
// the agency signs its petition receipts with.
type Key struct {
	ID          string
	Agency      string
	KeyName     string
	KeyVersion  int
	KeyType     string
	Certificate *x509.Certificate
	Chain       []*x509.Certificate // the certificate first, then its issuers
	ChainPEM    string
}
