# paknd — least-privilege policy for the petition service's own Vault token.
#
# paknd may USE keys (sign, later encrypt/decrypt personal data) but may never
# read, export, rotate, configure or delete them, nor touch policies, auth
# methods, mounts or the PKI. Anything not listed here is denied, and the
# AppRole is created with token_no_default_policy, so not even Vault's
# "default" policy is added. Operators change keys through `pakn` with their
# own, separately granted tokens.

# Sign digests with the per-signer Transit keys (prehashed; see issue 5).
path "transit/sign/pakn-signer-*" {
  capabilities = ["update"]
}

# Sign petition receipts with each agency's own service key.
path "transit/sign/pakn-agency-*" {
  capabilities = ["update"]
}

# Time-stamp documents with the time-stamping authority's key (issue 16):
# every signature and every document time-stamp of a reply.
path "transit/sign/pakn-tsa" {
  capabilities = ["update"]
}

# Read the public issuing CA chain and the CRLs of both CAs (public data,
# embedded in every reply as its validation data).
path "pki_int/cert/ca_chain" {
  capabilities = ["read"]
}
path "pki_int/cert/crl" {
  capabilities = ["read"]
}
path "pki/cert/crl" {
  capabilities = ["read"]
}
# After a rotation of the issuing CA (pakn ca rotate), the CRLs of every
# issuer of the mount: certificates the earlier CAs issued stay revocable.
path "pki_int/issuers" {
  capabilities = ["list"]
}
path "pki_int/issuer/+/crl" {
  capabilities = ["read"]
}

# Keep its own token alive and let /readyz check it.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# Encrypt and decrypt staff TOTP secrets with the MFA key (never export it).
path "transit/encrypt/pakn-mfa" {
  capabilities = ["update"]
}
path "transit/decrypt/pakn-mfa" {
  capabilities = ["update"]
}

# Petitioners' personal data: envelope encryption under the PII key. paknd
# asks for data keys (returned in clear and wrapped by the PII key) and
# unwraps stored data keys; the PII key itself stays in Vault.
path "transit/datakey/plaintext/pakn-pii" {
  capabilities = ["update"]
}
path "transit/decrypt/pakn-pii" {
  capabilities = ["update"]
}
