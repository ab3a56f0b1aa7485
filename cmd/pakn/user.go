package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"pakn/internal/access"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/guard"
	"pakn/internal/identity"
	"pakn/internal/postgres"
	"pakn/internal/store"
)

// operator is the principal of the CLI: it holds the database credentials,
// so the policy lets it act, and every action is audited under its name.
func (e env) operator() access.Principal {
	name := e.getenv("USER")
	if name == "" {
		name = "cli"
	}
	return access.Principal{Kind: access.Operator, ID: name, Name: name}
}

func (e env) identity(ctx context.Context) (*identity.Service, func(), error) {
	pool, err := e.openAppDB(ctx)
	if err != nil {
		return nil, nil, err
	}
	ids, err := newIdentity(postgres.Stores(pool, nil))
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return ids, pool.Close, nil
}

const userUsage = `usage:
  pakn user create -username NAME -name "Full Name" -agency CODE -roles official[,reviewer,...]
  pakn user add-role | remove-role -username NAME -role ROLE
  pakn user reset-password | reset-mfa | disable -username NAME`

func cmdUser(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	sub := args[0]
	fs := newFlags("user "+sub, e)
	username := fs.String("username", "", "the account's username")
	name := fs.String("name", "", "display name (create)")
	agencyCode := fs.String("agency", "", "agency code (create)")
	roles := fs.String("roles", "", "comma-separated roles (create)")
	role := fs.String("role", "", "one role (add-role, remove-role)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *username == "" {
		return fmt.Errorf("-username is required\n%s", userUsage)
	}
	ids, done, err := e.identity(ctx)
	if err != nil {
		return err
	}
	defer done()
	m := audit.Meta{}
	op := e.operator()

	if sub == "create" {
		n := identity.NewAccount{Username: *username, DisplayName: *name, Agency: *agencyCode}
		for _, r := range strings.Split(*roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				n.Roles = append(n.Roles, access.Role(r))
			}
		}
		a, pw, err := ids.CreateAccount(ctx, m, op, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created %s (%s) in %s with roles %s\none-time password: %s\n(the owner must change it at first sign-in%s)\n",
			a.Username, a.ID, a.Agency, *roles, pw, mfaNote(a.Roles))
		return nil
	}
	a, err := ids.FindAccount(ctx, *username)
	if err != nil {
		return err
	}
	switch sub {
	case "add-role":
		_, err = ids.AddRole(ctx, m, op, a.ID, access.Role(*role))
	case "remove-role":
		err = ids.RemoveRole(ctx, m, op, a.ID, access.Role(*role))
	case "reset-mfa":
		_, err = ids.ResetMFA(ctx, m, op, a.ID)
	case "disable":
		err = ids.Disable(ctx, m, op, a.ID)
	case "reset-password":
		var pw string
		if pw, _, err = ids.ResetPassword(ctx, m, op, a.ID); err == nil {
			fmt.Fprintf(e.stdout, "one-time password for %s: %s\n", a.Username, pw)
		}
	default:
		return fmt.Errorf("unknown user subcommand %q\n%s", sub, userUsage)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: done for %s\n", sub, a.Username)
	return nil
}

func mfaNote(roles []access.Role) string {
	if access.MFARequired(roles) {
		return ", then enrol a TOTP authenticator"
	}
	return ""
}

// newIdentity is the identity service the CLI uses over st: operators act
// under the same policy and audit log as paknd.
func newIdentity(st store.Set) (*identity.Service, error) {
	return identity.New(identity.Config{Stores: st, Hasher: credential.NewPasswordHasher(credential.DefaultArgon2, 2),
		Guard: &guard.Guard{Audit: st.Audit, Now: time.Now}})
}
