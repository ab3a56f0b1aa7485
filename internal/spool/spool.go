// Package spool holds uploaded files while they are checked and stored:
// small ones in memory, larger ones in temporary files that are unlinked as
// soon as they are created, so an upload is never held whole in memory and
// nothing is left on disk when the process ends, however it ends.
package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
)

// DefaultMemLimit is how much of an upload is kept in memory before it
// goes to a file.
const DefaultMemLimit = 256 << 10

// ErrTooLarge is returned when an upload is longer than its limit.
var ErrTooLarge = errors.New("spool: upload longer than its limit")

// Spool takes uploads.
type Spool struct {
	Dir      string // where temporary files go; the system's temporary folder when empty
	MemLimit int    // bytes kept in memory before a file is used; DefaultMemLimit when zero
}

// File is one upload held by a Spool: read-only, with its size. Close it
// to free its memory or file.
type File struct {
	mem      []byte
	giveBack func() // gives mem back to be used again (TakeSized); nil when closed or not to be
	f        *os.File
	size     int64
	mapped   []byte // the file mapped into memory by Bytes, unmapped by Close
}

// Take reads r to its end into a File. It returns ErrTooLarge, having read
// at most limit+1 bytes, when r holds more than limit bytes, and r's own
// error (such as *http.MaxBytesError) when reading fails.
func (s *Spool) Take(r io.Reader, limit int64) (*File, error) {
	return s.take(r, limit, -1, false)
}

// TakeSized is Take for an upload that declares its length (-1: none):
// the memory for an upload held in memory is made once, at the declared
// length (at most the memory limit), instead of growing by doubling as it
// arrives, and it is used again for another upload once the File is
// closed, so what Bytes returned must not be kept past Close (as for a
// larger upload, whose mapping Close removes). The declared length is a
// hint: the bounds are Take's.
func (s *Spool) TakeSized(r io.Reader, limit, declared int64) (*File, error) {
	return s.take(r, limit, declared, true)
}

// memory holds the memory of closed in-memory uploads taken by TakeSized
// (*[]byte, empty, at most the memory limit and a read's worth).
var memory sync.Pool

func (s *Spool) take(r io.Reader, limit, declared int64, reuse bool) (*File, error) {
	memLimit := s.MemLimit
	if memLimit <= 0 {
		memLimit = DefaultMemLimit
	}
	in := io.LimitReader(r, limit+1)
	head := &bytes.Buffer{}
	if reuse {
		if p, ok := memory.Get().(*[]byte); ok {
			head = bytes.NewBuffer((*p)[:0])
		}
	}
	if want := int(min(declared, int64(memLimit), limit)) + bytes.MinRead; declared > 0 && head.Cap() < want {
		head.Grow(want)
	}
	giveBack := func() {
		if b := head.Bytes()[:0]; reuse && cap(b) <= memLimit+2*bytes.MinRead {
			memory.Put(&b)
		}
	}
	n, err := io.Copy(head, io.LimitReader(in, int64(memLimit)+1))
	if err != nil {
		giveBack()
		return nil, err
	}
	out := &File{}
	if n <= int64(memLimit) {
		out.mem, out.size = head.Bytes(), n
		if reuse {
			out.giveBack = giveBack
		}
	} else {
		defer giveBack() // written to the file below
		f, err := os.CreateTemp(s.Dir, "pakn-upload-*")
		if err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		// Unlinked at once: the open file lives until Close, and no crash leaves it behind.
		if err := os.Remove(f.Name()); err != nil {
			f.Close()
			return nil, fmt.Errorf("spool: %w", err)
		}
		out.f = f
		if _, err := f.Write(head.Bytes()); err != nil {
			f.Close()
			return nil, fmt.Errorf("spool: %w", err)
		}
		rest, err := io.Copy(f, in)
		if err != nil {
			f.Close()
			return nil, err
		}
		out.size = n + rest
	}
	if out.size > limit {
		out.Close()
		return nil, ErrTooLarge
	}
	return out, nil
}

// Size is the upload's length in bytes.
func (f *File) Size() int64 { return f.size }

// ReadAt implements io.ReaderAt.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.f != nil {
		return f.f.ReadAt(p, off)
	}
	if off >= int64(len(f.mem)) {
		return 0, io.EOF
	}
	n := copy(p, f.mem[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Reader reads the upload from its start.
func (f *File) Reader() io.Reader { return io.NewSectionReader(f, 0, f.size) }

// Bytes returns the whole upload as one slice, valid until Close: the
// memory it was kept in, or its file mapped read-only into memory (no copy,
// and no garbage for the collector, however large the upload).
func (f *File) Bytes() ([]byte, error) {
	if f.f == nil || f.mapped != nil {
		if f.f == nil {
			return f.mem, nil
		}
		return f.mapped, nil
	}
	b, err := syscall.Mmap(int(f.f.Fd()), 0, int(f.size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("spool: map: %w", err)
	}
	f.mapped = b
	return b, nil
}

// InMemory reports whether the upload is held in memory rather than in a file.
func (f *File) InMemory() bool { return f.f == nil }

// Close frees the upload's memory or file (and its mapping: slices from
// Bytes are invalid afterwards). It may be called more than once.
func (f *File) Close() error {
	f.mem = nil
	if f.giveBack != nil {
		f.giveBack()
		f.giveBack = nil
	}
	var err error
	if f.mapped != nil {
		err = syscall.Munmap(f.mapped)
		f.mapped = nil
	}
	if f.f == nil {
		return err
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	f.f = nil
	return err
}
