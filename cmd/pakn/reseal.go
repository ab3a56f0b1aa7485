package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"pakn/internal/audit"
	"pakn/internal/config"
	"pakn/internal/postgres"
	"pakn/internal/sealed"
	"pakn/internal/vault"
)

// cmdReseal is `pakn reseal`: it seals and indexes the words of petitions
// written before sealing existed (their title and body in clear), as
// paknd seals new ones, recording the run in the audit log first.
func cmdReseal(ctx context.Context, args []string, e env) error {
	fs := newFlags("reseal", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	auditKey, err := e.auditKey()
	if err != nil {
		return err
	}
	api, err := e.operatorVault()
	if err != nil {
		return err
	}
	vc, err := vault.Connect(ctx, vault.Config{Addr: api.Address(), Token: api.Token(), Timeout: 30 * time.Second}, nil)
	if err != nil {
		return err
	}
	pool, err := e.openAppDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := postgres.Stores(pool, nil)
	op := e.operator()
	ev := func(phase string, n int) *audit.Event {
		return audit.EventOf(audit.Meta{}, op, "petitions.reseal", "petitions", "*", audit.Success, audit.Details(map[string]any{"phase": phase, "sealed": n}))
	}
	if err := st.Audit.Record(ctx, ev("start", 0)); err != nil {
		return err
	}
	ps, ok := st.Petitions.(*postgres.PetitionStore)
	if !ok {
		return errors.New("reseal: not a PostgreSQL petition store")
	}
	n, err := sealed.Reseal(ctx, ps, vault.NewEnvelopeBox(vc, vault.PIIKey), sealed.SearchKey(auditKey))
	if err != nil {
		return fmt.Errorf("reseal: %d petitions sealed, then: %w", n, err)
	}
	if err := st.Audit.Record(ctx, ev("done", n)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "reseal: sealed and indexed the words of %d petition(s)\n", n)
	return nil
}

// auditKey reads paknd's audit key (PAKN_AUDIT_KEY_FILE), from which the
// search key of the blind index of petitions' words is derived.
func (e env) auditKey() ([]byte, error) {
	keyFile, err := e.need("PAKN_AUDIT_KEY_FILE", "paknd's audit key, whose search key indexes petitions' words")
	if err != nil {
		return nil, err
	}
	return config.ReadHexKeyFile(keyFile)
}
