package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
)

func TestTake(t *testing.T) {
	dir := t.TempDir()
	s := &Spool{Dir: dir, MemLimit: 16}
	for _, tc := range []struct {
		name     string
		size     int
		limit    int64
		inMemory bool
		tooLarge bool
	}{
		{"empty", 0, 10, true, false},
		{"small stays in memory", 16, 100, true, false},
		{"one byte past memory goes to a file", 17, 100, false, false},
		{"exactly the limit", 100, 100, false, false},
		{"one byte over the limit", 101, 100, false, true},
		{"over the limit while still in memory", 11, 10, true, true},
	} {
		// Take, and TakeSized with a declared length that is right, short, or a lie far too large (capped).
		for _, declared := range []int64{-1, int64(tc.size), int64(tc.size / 2), 1 << 40} {
			t.Run(fmt.Sprintf("%s declared %d", tc.name, declared), func(t *testing.T) {
				takeCase(t, s, dir, tc.size, tc.limit, declared, tc.inMemory, tc.tooLarge)
			})
		}
	}
	// Files are unlinked as soon as they are made: nothing is ever left in the folder.
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Fatalf("left in the spool folder: %v %v", ents, err)
	}
}

// takeCase takes size bytes through s with limit (declared -1: Take;
// else TakeSized) and checks the file it gives.
func takeCase(t *testing.T, s *Spool, dir string, size int, limit, declared int64, inMemory, tooLarge bool) {
	data := bytes.Repeat([]byte("pakn"), size/4+1)[:size]
	var f *File
	var err error
	if declared < 0 {
		f, err = s.Take(bytes.NewReader(data), limit)
	} else {
		f, err = s.TakeSized(bytes.NewReader(data), limit, declared)
	}
	if tooLarge {
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err %v, want ErrTooLarge", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Unlinked as soon as it is made: nothing in the folder even while the file is open.
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Fatalf("in the spool folder while open: %v %v", ents, err)
	}
	if f.Size() != int64(size) || f.InMemory() != inMemory {
		t.Fatalf("size %d in memory %v", f.Size(), f.InMemory())
	}
	got, err := f.Bytes()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Bytes: %v", err)
	}
	got, err = io.ReadAll(f.Reader())
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Reader: %v", err)
	}
	if size > 3 {
		p := make([]byte, 3)
		if n, err := f.ReadAt(p, int64(size-3)); n != 3 || (err != nil && err != io.EOF) || !bytes.Equal(p, data[size-3:]) {
			t.Fatalf("ReadAt: %d %v", n, err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }

func TestTakePassesReadErrorsOn(t *testing.T) {
	want := errors.New("client went away")
	s := &Spool{Dir: t.TempDir(), MemLimit: 4}
	if _, err := s.Take(io.MultiReader(bytes.NewReader([]byte("0123456789")), failing{want}), 100); !errors.Is(err, want) {
		t.Fatalf("err %v", err)
	}
}

// TakeSized's memory is used again after Close: each upload still reads as
// itself, a second Close gives nothing back twice, and an upload refused as
// too large or gone to a file gives its memory back too.
func TestTakeSizedReusesMemory(t *testing.T) {
	s := &Spool{Dir: t.TempDir(), MemLimit: 1 << 10}
	for i, size := range []int{700, 300, 1000, 5, 2000, 900} {
		data := bytes.Repeat([]byte{byte('a' + i)}, size)
		f, err := s.TakeSized(bytes.NewReader(data), 1500, int64(size))
		if size > 1500 {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("upload %d: %v, want ErrTooLarge", i, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Bytes()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("upload %d of %d bytes does not read as itself", i, size)
		}
		other, err := s.TakeSized(bytes.NewReader(bytes.Repeat([]byte("z"), 64)), 1500, 64)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("upload %d changed by another taken while it is open", i)
		}
		for range 2 {
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if err := other.Close(); err != nil {
				t.Fatal(err)
			}
		}
		a, _ := s.TakeSized(bytes.NewReader([]byte("first")), 1500, 5)
		b, _ := s.TakeSized(bytes.NewReader([]byte("second")), 1500, 6)
		ab, _ := a.Bytes()
		bb, _ := b.Bytes()
		if string(ab) != "first" || string(bb) != "second" {
			t.Fatalf("after a double Close, two uploads share memory: %q %q", ab, bb)
		}
		a.Close()
		b.Close()
	}
}
