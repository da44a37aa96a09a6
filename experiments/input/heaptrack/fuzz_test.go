package heaptrack

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary plain text to Next and Summarize. Neither may
// panic or hang; every error must be an *Error naming a line of the input;
// and a trace that reads to the end must keep the replay invariants.
func FuzzReader(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "sort.txt")); err == nil {
		// The first lines of a real trace and a slice from its middle.
		lines := bytes.SplitAfter(data, []byte{'\n'})
		f.Add(bytes.Join(lines[:min(40, len(lines))], nil))
		f.Add(bytes.Join(lines[:min(120, len(lines))], nil))
	}
	for _, tc := range semanticsCases {
		f.Add([]byte(tc.text))
	}
	f.Add([]byte("v 10400 3\na 10 0\n+ 0\n- 0\n- 0\nc 5\nR 3\nA\n"))
	f.Add([]byte("v 10400 2\ns operator new(unsigned long)\ni 1 0 1\nt 1 0\nt 1 1\na 8 2\n+ 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte{'\n'}) + 1
		checkErr := func(err error) {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("error %v names line %d of %d", err, e.Line, lines)
			}
		}

		r, err := NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			// Input starting with a compression magic number.
			checkErr(err)
			return
		}
		defer r.Close()
		live := map[uint32]uint64{}
		for {
			op, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				checkErr(err)
				break
			}
			switch op.Kind {
			case KindAlloc:
				live[op.Info]++
			case KindFree:
				if live[op.Info] == 0 {
					t.Fatalf("line %d: free of info %d without a live allocation", op.Line, op.Info)
				}
				live[op.Info]--
			}
		}

		r2, err := NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		defer r2.Close()
		s, err := Summarize(r2)
		if err != nil {
			checkErr(err)
			return
		}
		if want := s.LeakedBytes + s.SuppressedBytes + int64(s.Tolerated.UnmatchedFreeBytes); s.LiveBytes != want {
			t.Fatalf("LiveBytes %d, leaked+suppressed+unmatched %d", s.LiveBytes, want)
		}
		if s.PeakBytes < 0 || s.DurationMs < 1 {
			t.Fatalf("implausible summary %+v", s)
		}
	})
}
