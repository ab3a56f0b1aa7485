package main

import (
	"context"
	"fmt"

	"pakn/internal/access"
	"pakn/internal/agency"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/identity"
	"pakn/internal/postgres"
)

func cmdSeed(ctx context.Context, args []string, e env) error {
	fs := newFlags("seed", e)
	demo := fs.Bool("demo", false, "also create the demo accounts (one per role, of the Department of Justice): for a demonstration, never production")
	demoOut := fs.String("demo-reply", "", "also make a demo petition answered by a reply signed through Vault, and write its codes to this file (VAULT_ADDR, VAULT_TOKEN)")
	publicURL := fs.String("public-url", "http://127.0.0.1:8080", "the service's public URL, printed in the demo reply's QR code")
	credsDir := fs.String("vault-creds-dir", "", "paknd's AppRole credentials, to sign the demo reply as paknd does (default: VAULT_TOKEN)")
	certsDir := fs.String("certs", "certs", "the trust anchors folder pakn bootstrap wrote, with the time-stamping authority's certificate (tsa/pakn-tsa.pem)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := e.openAppDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := postgres.Stores(pool, nil)
	actor := audit.Event{Actor: "system", Role: "seed"}
	n, _, _, err := st.Agencies.Import(ctx, &agency.Directory{Agencies: agency.DemoDirectory(), Routing: agency.DemoRouting()}, actor)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "seed: %d demo agencies added (%d already present), with the demo city's routing\n", n, len(agency.DemoDirectory())-n)
	if !*demo {
		if *demoOut != "" {
			return fmt.Errorf("-demo-reply needs -demo (its staff are the demo accounts)")
		}
		return nil
	}

	ids, err := newIdentity(st)
	if err != nil {
		return err
	}
	var created []string
	for _, r := range access.AllRoles {
		username := "demo-" + string(r)
		if _, err := ids.FindAccount(ctx, username); err == nil {
			continue
		} else if apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		a, pw, err := ids.CreateAccount(ctx, audit.Meta{}, e.operator(), identity.NewAccount{
			Username: username, DisplayName: demoNames[r], Agency: "STP-HN", Roles: []access.Role{r}})
		if err != nil {
			return err
		}
		created = append(created, fmt.Sprintf("  %-15s %-9s one-time password %s%s", a.Username, r, pw, mfaNote(a.Roles)))
	}
	if len(created) == 0 {
		fmt.Fprintln(e.stdout, "seed: demo accounts already present (pakn user reset-password -username demo-admin gives a new one-time password)")
	} else {
		fmt.Fprintln(e.stdout, "seed: demo accounts of the Department of Justice (STP-HN); change the password at first sign-in:")
		for _, l := range created {
			fmt.Fprintln(e.stdout, l)
		}
	}
	if *demoOut != "" {
		// Every demo agency signs the receipts of what it receives.
		api, err := e.operatorVault()
		if err != nil {
			return err
		}
		for _, a := range agency.DemoDirectory() {
			if err := provisionAgencyKey(ctx, e, st, api, a.Code, "ecdsa-p256"); err != nil {
				return err
			}
		}
		return seedDemoReply(ctx, e, pool, ids, *publicURL, *credsDir, *certsDir, *demoOut)
	}
	return nil
}

// demoNames are the display names of the demo accounts.
var demoNames = map[access.Role]string{
	access.Official: "Nguyễn Văn An (chuyên viên)",
	access.Reviewer: "Trần Thị Bình (trưởng phòng)",
	access.Signer:   "Lê Hoàng Cường (phó giám đốc)",
	access.Auditor:  "Phạm Thu Dung (an toàn thông tin)",
	access.Admin:    "Hoàng Minh Đức (quản trị hệ thống)",
}
