package petition

import (
	"testing"
	"time"
)

func TestNewIDIsVersion7AndOrdered(t *testing.T) {
	base := time.Date(2026, 11, 29, 1, 2, 3, 0, time.UTC)
	prev := ""
	for i := 0; i < 100; i++ {
		id, err := NewID(base.Add(time.Duration(i) * time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 36 || id[14] != '7' || (id[19] != '8' && id[19] != '9' && id[19] != 'a' && id[19] != 'b') {
			t.Fatalf("%s is not a version 7, RFC 9562 variant UUID", id)
		}
		if id <= prev {
			t.Fatalf("%s does not sort after %s", id, prev)
		}
		prev = id
	}
}
