// Command pakn is the operator CLI of the pakn petition service.
//
//	pakn migrate                  apply database migrations (as the owner role)
//	pakn bootstrap                set up Vault for pakn (idempotent)
//	pakn seed                     add the demo agencies and accounts (idempotent)
//	pakn user create|add-role|remove-role|reset-password|reset-mfa|disable
//	                              manage staff accounts
//	pakn audit verify [-anchor SEQ:HASH]
//	                              check the audit chain; exit 1 where it breaks
//	pakn audit export [-after SEQ] write audit events as JSON lines
//
// Configuration comes from the environment; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"pakn/internal/postgres"
)

// Exit statuses.
const (
	exitOK     = 0
	exitBroken = 1 // the audit chain is broken
	exitFailed = 1 // a verified document is not TOTAL_PASSED
	exitError  = 2 // usage or operational error
	// A verified document's signature is valid, but the register says the
	// system did not issue it (NOT_IN_REGISTER).
	exitNotIssued = 3
	// A verified document's signature is valid, but no register was
	// consulted (no PAKN_DATABASE_URL): whether it was issued is not known.
	exitNoRegister = 4
)

// env is the process environment, passed explicitly.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	stderrIsTTY    bool
	progressEvery  time.Duration // how often long commands report progress
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fi, _ := os.Stderr.Stat()
	e := env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		stderrIsTTY: fi != nil && fi.Mode()&os.ModeCharDevice != 0, progressEvery: time.Second}
	os.Exit(run(ctx, os.Args[1:], e))
}

const usage = `usage: pakn COMMAND [flags]

commands:
  migrate                   apply database migrations (PAKN_DATABASE_OWNER_URL, PAKN_DB_APP_ROLE)
  bootstrap                 set up Vault for pakn, idempotently (VAULT_ADDR, VAULT_TOKEN of an operator)
  ca rotate [-certs-dir DIR] a new issuing CA under the root issues certificates from now on; the older ones
                            stay anchors; refreshes certs/ and certifies the time-stamping authority again
  agency import FILE        add agencies and set the routing of petitions from a JSON file (PAKN_DATABASE_URL)
  reseal                    seal and index the words of petitions stored before sealing existed
                            (PAKN_DATABASE_URL, PAKN_AUDIT_KEY_FILE, VAULT_ADDR, VAULT_TOKEN of an operator)
  seed [-demo [-demo-reply FILE]]
                            add the demo city's agencies and routing; -demo also one demo account per role,
                            -demo-reply a petition answered by a reply signed through Vault (PAKN_DATABASE_URL)
  user create|add-role|remove-role|reset-password|reset-mfa|disable -username NAME ...
                            manage staff accounts (PAKN_DATABASE_URL); audited as operator:$USER
  signer provision|rotate|revoke|list -username NAME ...
  agency-key provision -agency CODE       an agency's key for signing its petition receipts
                            manage signers' Vault keys and certificates (VAULT_ADDR, VAULT_TOKEN of an
                            operator, PAKN_DATABASE_URL); revoking also revokes the certificate in Vault PKI
  archive-timestamp [-within 4320h] [-limit N] [-certs DIR] [-vault-creds-dir DIR]
                            give signed documents whose newest time-stamp's certificate ends within -within a new
                            version with a document time-stamp (PAKN_DATABASE_URL, PAKN_AUDIT_KEY_FILE, VAULT_ADDR,
                            VAULT_TOKEN of an operator); run it monthly
  verify [-certs DIR] [-crl FILE] [-at TIME] [-tsa-policy OID] [-json] FILE.pdf
                            check a reply PDF offline against certs/, the CRLs it embeds and the issuing CA's (-crl, or
                            VAULT_ADDR); and, with PAKN_DATABASE_URL, the register (else its issuance time-stamp);
                            exit 0 only for TOTAL_PASSED (3: not issued, 4: register not consulted)
  audit verify [-anchor SEQ:HASH]
                            check the audit chain (PAKN_DATABASE_URL); exit 1 if broken
  audit export [-after SEQ] write audit events as JSON lines to standard output
`

func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitError
	}
	var err error
	switch args[0] {
	case "migrate":
		err = cmdMigrate(ctx, args[1:], e)
	case "bootstrap":
		err = cmdBootstrap(ctx, args[1:], e)
	case "ca":
		err = cmdCA(ctx, args[1:], e)
	case "archive-timestamp":
		err = cmdArchiveTimestamp(ctx, args[1:], e)
	case "seed":
		err = cmdSeed(ctx, args[1:], e)
	case "user":
		err = cmdUser(ctx, args[1:], e)
	case "signer":
		err = cmdSigner(ctx, args[1:], e)
	case "agency-key":
		err = cmdAgencyKey(ctx, args[1:], e)
	case "agency":
		err = cmdAgency(ctx, args[1:], e)
	case "reseal":
		err = cmdReseal(ctx, args[1:], e)
	case "audit":
		if len(args) < 2 {
			err = errors.New("audit needs a subcommand: verify or export")
			break
		}
		switch args[1] {
		case "verify":
			return cmdAuditVerify(ctx, args[2:], e)
		case "export":
			err = cmdAuditExport(ctx, args[2:], e)
		default:
			err = fmt.Errorf("unknown audit subcommand %q: use verify or export", args[1])
		}
	case "verify":
		return cmdVerify(ctx, args[1:], e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	default:
		err = fmt.Errorf("unknown command %q", args[0])
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(e.stderr, "pakn:", err)
		}
		return exitError
	}
	return exitOK
}

// need returns the value of an environment variable or an error naming it.
func (e env) need(name, what string) (string, error) {
	v := e.getenv(name)
	if v == "" {
		return "", fmt.Errorf("%s is not set (%s)", name, what)
	}
	return v, nil
}

// openAppDB connects to PAKN_DATABASE_URL.
func (e env) openAppDB(ctx context.Context) (*pgxpool.Pool, error) {
	url, err := e.need("PAKN_DATABASE_URL", "the database URL of the application role")
	if err != nil {
		return nil, err
	}
	return postgres.Open(ctx, url)
}

func newFlags(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("pakn "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}
