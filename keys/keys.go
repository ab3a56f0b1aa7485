// Package keys holds pakn's Vault policies and key specifications. Nothing in
// this folder is secret: it never holds a private key, token or secret id.
package keys

import _ "embed"

// PakndPolicy is the HCL of the least-privilege policy for paknd's token.
//
//go:embed paknd.hcl
var PakndPolicy string

// PakndPolicyName is the name the paknd policy is written under in Vault.
const PakndPolicyName = "paknd"
