package quota

import (
	"testing"
	"time"
)

func TestPerClient(t *testing.T) {
	q := &PerClient{Max: 2}
	r1, ok1 := q.Acquire("a")
	r2, ok2 := q.Acquire("a")
	_, ok3 := q.Acquire("a")
	rb, okb := q.Acquire("b")
	if !ok1 || !ok2 || ok3 || !okb {
		t.Fatalf("acquire: %v %v %v %v", ok1, ok2, ok3, okb)
	}
	r1()
	r1() // a second call gives nothing back twice
	if q.Running("a") != 1 {
		t.Fatalf("running %d after one release", q.Running("a"))
	}
	if _, ok := q.Acquire("a"); !ok {
		t.Fatal("a place freed by release is not available")
	}
	r2()
	rb()
	if q.Running("b") != 0 || len(q.running) != 1 {
		t.Fatalf("released keys are forgotten: %v", q.running)
	}
	unbounded := &PerClient{}
	for range 100 {
		if _, ok := unbounded.Acquire("a"); !ok {
			t.Fatal("Max 0 bounds nothing")
		}
	}
}

func TestDaily(t *testing.T) {
	now := time.Date(2026, 12, 1, 16, 59, 0, 0, time.UTC) // 23:59 in Hà Nội
	d := &Daily{Max: 100, Now: func() time.Time { return now }}
	for _, tc := range []struct {
		key  string
		n    int64
		ok   bool
		left int64
	}{
		{"a", 60, true, 40},
		{"a", 40, true, 0},
		{"a", 1, false, 0},
		{"b", 100, true, 0},
	} {
		if ok := d.Add(tc.key, tc.n); ok != tc.ok || d.Left(tc.key) != tc.left {
			t.Fatalf("Add(%s, %d) = %v, left %d; want %v, %d", tc.key, tc.n, ok, d.Left(tc.key), tc.ok, tc.left)
		}
	}
	if got := d.UntilTomorrow(); got != time.Minute {
		t.Fatalf("until tomorrow %s", got)
	}
	now = now.Add(2 * time.Minute) // 00:01 in Hà Nội: a new day
	if d.Left("a") != 100 || !d.Add("a", 100) {
		t.Fatal("counts do not start again at midnight in Vietnam")
	}
}

func TestBudget(t *testing.T) {
	b := &Budget{Max: 10}
	if !b.Take(6) || b.Take(5) || !b.Take(4) || b.Used() != 10 {
		t.Fatalf("used %d", b.Used())
	}
	b.Give(6)
	if !b.Take(5) || b.Used() != 9 {
		t.Fatalf("used %d after give", b.Used())
	}
	if u := (&Budget{}); !u.Take(1 << 40) {
		t.Fatal("Max 0 bounds nothing")
	}
}
