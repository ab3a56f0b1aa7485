// Package architecture holds no code: its test checks the arrows between
// pakn's packages, read from `go list`, and this comment states them.
//
//   - Domain packages (access, agency, apperr, audit, credential, deadline,
//     msg, pdfrender, petition, quota, reply, spool, store, verify) import
//     only the standard library (never net/http), well-kept libraries made
//     for their job, and other domain packages: no HTTP, SQL or Vault.
//   - Services (auditlog, guard, identity, petitions, register, replies)
//     import the domain and services below them (replies uses petitions;
//     every service uses guard): they receive the store interfaces of
//     internal/store and their other collaborators (keys, sealers, the PDF
//     signer) as interfaces or functions, never pgx, Vault or HTTP.
//   - Adapters (config, httpapi, postgres, signing, vault) import the domain
//     and, for httpapi, the services; never another adapter, and only
//     their own driver (chi for httpapi, pgx for postgres, the Vault API
//     for vault).
//   - Commands (cmd/pakn, cmd/paknd) wire everything and may import any
//     package. Test helpers (pdftest, pgtest, servicetest, testclock,
//     vaulttest, verifytest) serve tests only and are imported by nothing
//     else.
package architecture
