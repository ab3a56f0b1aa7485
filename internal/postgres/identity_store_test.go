package postgres_test

import (
	"context"
	"testing"
	"time"

	"pakn/internal/agency"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/pgtest"
)

// LockCredentials holds the account's row until the transaction ends, so a
// TOTP code checked in one transaction cannot be checked again, as unused,
// by a concurrent one: the second reads the step the first wrote. (Without
// FOR UPDATE the second reads the old step at once.)
func TestLockCredentialsHoldsTheAccountUntilCommit(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	st := db.Stores(nil)
	if _, _, _, err := st.Agencies.Import(ctx, &agency.Directory{Agencies: agency.DemoDirectory()[:1]}, audit.Event{Actor: "test", Role: "seed"}); err != nil {
		t.Fatal(err)
	}
	var id string
	err := db.PG.InTx(ctx, func(ctx context.Context) error {
		var err error
		id, _, err = st.Accounts.CreateAccount(ctx, credential.Account{Username: "signer1", DisplayName: "Ký số",
			Agency: agency.DemoDirectory()[0].Code}, "hash")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	first := make(chan struct{})
	commit := make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- db.PG.InTx(ctx, func(ctx context.Context) error {
			c, err := st.Accounts.LockCredentials(ctx, id)
			if err != nil {
				return err
			}
			close(first)
			<-commit
			return st.Accounts.SetTOTP(ctx, c.ID, "sealed", time.Now(), 42)
		})
	}()
	<-first
	type read struct {
		step int64
		err  error
	}
	second := make(chan read, 1)
	go func() {
		var r read
		r.err = db.PG.InTx(ctx, func(ctx context.Context) error {
			c, err := st.Accounts.LockCredentials(ctx, id)
			if err == nil {
				r.step = c.TOTPLastStep
			}
			return err
		})
		second <- r
	}()
	// The second must be seen waiting for the first's row lock.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		select {
		case r := <-second:
			close(commit)
			t.Fatalf("a second LockCredentials returned (step %d, %v) while the first transaction held the account", r.step, r.err)
		default:
		}
		var waiting int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM accounts a%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second LockCredentials neither returned nor waited for the lock")
		}
	}
	close(commit)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if r := <-second; r.err != nil || r.step != 42 {
		t.Fatalf("after the first committed, the second read step %d (%v), want 42", r.step, r.err)
	}
}
