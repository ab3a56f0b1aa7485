package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pakn/internal/servicetest"
	"pakn/internal/store"
)

// TestPetitionByID finds a petition by its id as pakn writes it, and
// nothing for any other spelling or for text that is no id (which must
// not reach PostgreSQL as a uuid it cannot read).
func TestPetitionByID(t *testing.T) {
	e := servicetest.New(t)
	r := e.Submit(t, servicetest.Submission())
	id := e.ID(t, r.TrackingCode)
	ps := e.DB.Stores(nil).Petitions
	ctx := context.Background()
	tests := []struct {
		name, id string
		found    bool
	}{
		{"as written", id, true},
		{"upper case", strings.ToUpper(id), false},
		{"without hyphens", strings.ReplaceAll(id, "-", ""), false},
		{"in braces", "{" + id + "}", false},
		{"hyphens moved", id[:7] + "-" + id[7:8] + id[9:], false},
		{"not hex", strings.Repeat("z", 8) + id[8:], false},
		{"empty", "", false},
		{"another id", "00000000-0000-7000-8000-000000000000", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ps.Petition(ctx, tc.id)
			if tc.found {
				if err != nil || p.TrackingCode != r.TrackingCode {
					t.Fatalf("Petition(%q) = %v, %v; want %s", tc.id, p, err, r.TrackingCode)
				}
				return
			}
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Petition(%q): %v, want ErrNotFound", tc.id, err)
			}
			err = e.DB.Stores(nil).Tx.InTx(ctx, func(ctx context.Context) error {
				_, err := ps.LockPetition(ctx, tc.id)
				return err
			})
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("LockPetition(%q): %v, want ErrNotFound", tc.id, err)
			}
		})
	}
}

// TestIDsNotAsWrittenAreNotFound: every look-up by id treats text that is
// not an id as pakn writes it as no id at all, upper case of a real one
// included, without an error from PostgreSQL.
func TestIDsNotAsWrittenAreNotFound(t *testing.T) {
	e := servicetest.New(t)
	r := e.Submit(t, servicetest.Submission())
	pid := e.ID(t, r.TrackingCode)
	ctx := context.Background()
	var account string
	if err := e.DB.Pool.QueryRow(ctx, "SELECT id::text FROM accounts ORDER BY username LIMIT 1").Scan(&account); err != nil {
		t.Fatal(err)
	}
	st := e.DB.Stores(nil)
	if _, err := st.Accounts.Credentials(ctx, account); err != nil {
		t.Fatalf("the account as written: %v", err)
	}
	if strings.ToUpper(pid) == pid {
		t.Fatalf("petition id %s has no letter to change the case of", pid)
	}
	for _, id := range []string{strings.ToUpper(pid), "{" + account + "}", strings.ReplaceAll(account, "-", ""), "x", "", "' OR true --"} {
		if _, err := st.Accounts.Credentials(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Credentials(%q): %v", id, err)
		}
		if _, err := st.Accounts.Token(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Token(%q): %v", id, err)
		}
		if err := st.Accounts.RevokeToken(ctx, id, time.Now()); err != nil {
			t.Errorf("RevokeToken(%q): %v", id, err)
		}
		if _, err := st.Accounts.PowerRequest(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PowerRequest(%q): %v", id, err)
		}
		if ok, err := st.Accounts.DecidePowerRequest(ctx, id, "approved", account, time.Now()); ok || err != nil {
			t.Errorf("DecidePowerRequest(%q): %v, %v", id, ok, err)
		}
		if _, err := st.Petitions.Attachment(ctx, pid, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Attachment(petition, %q): %v", id, err)
		}
		if _, err := st.Petitions.Attachment(ctx, id, pid); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Attachment(%q, …): %v", id, err)
		}
		err := st.Tx.InTx(ctx, func(ctx context.Context) error {
			_, err := st.Accounts.LockCredentials(ctx, id)
			return err
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LockCredentials(%q): %v", id, err)
		}
	}
}
