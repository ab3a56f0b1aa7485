package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

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
