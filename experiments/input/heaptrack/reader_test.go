package heaptrack

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readAll returns every Op of a trace, or the error that stopped it.
func readAll(r *Reader) ([]Op, error) {
	var ops []Op
	for {
		op, err := r.Next()
		if err == io.EOF {
			return ops, nil
		}
		if err != nil {
			return ops, err
		}
		ops = append(ops, op)
	}
}

func readAllBytes(t *testing.T, name string, data []byte) ([]Op, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readAll(r)
}

func mustReadFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestMalformedLines(t *testing.T) {
	cases := []struct {
		name string
		text string
		line int
		msg  string
	}{
		{"alloc of unknown info", "v 10400 3\n+ 0\n", 2, "names allocation info 0, but only 0 are defined"},
		{"free of unknown info", "v 10400 3\na 10 0\n+ 0\n- 1\n", 4, "names allocation info 1"},
		{"not hex", "v 10400 3\n+ zz\n", 2, "not a lowercase hex number"},
		{"upper-case hex", "v 10400 3\na 10 0\n+ A\n", 3, "not a lowercase hex number"},
		{"missing field", "v 10400 3\n+\n", 2, "want 1 hex fields"},
		{"double space", "v 10400 3\na 10 0\n+  0\n", 3, "empty field"},
		{"trailing space", "v 10400 3\na 10 0\n+ 0 \n", 3, "want at most 1 fields"},
		{"extra field", "v 10400 3\na 10 0\n+ 0 1\n", 3, "want at most 1 fields"},
		{"newer file version", "v 10400 4\n", 1, "file format version 4 is newer"},
		{"duplicate version", "v 10400 3\nv 10400 3\n", 2, "duplicate version"},
		{"version after data", "s 1 x\nv 10400 3\n", 2, "version ('v') line after data"},
		{"duplicate debuggee", "v 10400 3\nX a\nX b\n", 3, "duplicated debuggee"},
		{"time goes back", "v 10400 3\nc 5\nc 4\n", 3, "earlier than the previous one"},
		{"unknown type", "v 10400 3\nq 1\n", 2, "unknown line type 'q'"},
		{"raw file", "v 10400 3\nm 1 -\n", 2, "unknown line type 'm'"},
		{"no space after type", "v 10400 3\n+0\n", 2, "must be followed by a space"},
		{"short string", "v 10400 3\ns 5 abc\n", 2, "string length 5 but 3 bytes follow"},
		{"bare s", "v 10400 2\ns\n", 2, "missing the string"},
		{"unknown string", "v 10400 3\ni 1000 5\n", 2, "names string 5, but only 0"},
		{"half frame", "v 10400 3\ns 1 f\ni 1000 0 1 1\n", 3, "4 fields"},
		{"unknown ip", "v 10400 3\nt 1 0\n", 2, "names instruction pointer 1"},
		{"unknown parent", "v 10400 3\ni 1000 0\nt 1 1\n", 3, "names parent trace 1"},
		{"unknown trace", "v 10400 3\na 10 3\n", 2, "names trace 3, but only 0"},
		{"17 hex digits", "v 10400 3\nc 10000000000000000\n", 2, "more than 16 hex digits"},
		{"negative time", "v 10400 3\nc 8000000000000000\n", 2, "time stamp out of range"},
		{"a in version 0", "v 10400 0\na 10 0\n", 2, "'a' line in a file of format version 0"},
		{"version 0 alloc", "+ 10 0\n", 1, "want 3 hex fields"},
		{"rss without value", "\n\n# c\nv 10400 3\nR\n", 5, "want 1 hex fields"},
		{"attach with field", "v 10400 3\nA x\n", 2, "takes no fields"},
		{"system info", "v 10400 3\nI 1000\n", 2, "want 2 hex fields"},
		{"crlf", "v 10400 3\r\n", 1, "not a lowercase hex number"},
		{"last line unterminated", "v 10400 3\n+ 0", 2, "names allocation info 0"},
		{"binary", "\x00\x01\x02", 1, "must be followed by a space"},
		{"binary byte", "\x01", 1, "unknown line type"},
		{"line too long", "v 10400 3\n# " + strings.Repeat("x", MaxLineBytes) + "\n", 2, "longer than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAllBytes(t, "bad.txt", []byte(tc.text))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if e.Line != tc.line || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got %q, want line %d and a message containing %q", err, tc.line, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "bad.txt:") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

func TestErrorsAreSticky(t *testing.T) {
	r, err := NewReader(strings.NewReader("v 10400 3\n+ 0\na 10 0\n+ 0\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || err1 != err2 {
		t.Errorf("first error %v, second %v; want the same error twice", err1, err2)
	}
}

// TestCompressionsGiveSameOps checks the zstd, gzip and plain paths.
func TestCompressionsGiveSameOps(t *testing.T) {
	plain := mustReadFile(t, "sort.txt")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want, err := readAllBytes(t, "sort.txt", plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 223+71+1+1 {
		t.Errorf("sort.txt: %d ops, want 296 (223 '+', 71 '-', 1 'c', 1 'R')", len(want))
	}
	for name, data := range map[string][]byte{"sort.zst": mustReadFile(t, "sort.zst"), "sort.txt.gz": gz.Bytes()} {
		got, err := readAllBytes(t, name, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d ops, want %d", name, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: op %d = %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}
}

// TestOpsReplayConsistently checks what a replay relies on: every free
// names an info with a live allocation, and sizes agree with Info.
func TestOpsReplayConsistently(t *testing.T) {
	r, err := Open(filepath.Join("testdata", "python3-json.zst"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	live := map[uint32]int{}
	var lastTimeMs int64
	for {
		op, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if op.TimeMs < lastTimeMs {
			t.Fatalf("line %d: time went back", op.Line)
		}
		lastTimeMs = op.TimeMs
		switch op.Kind {
		case KindAlloc, KindFree:
			info, ok := r.Info(op.Info)
			if !ok || info.SizeBytes != op.SizeBytes {
				t.Fatalf("line %d: op %+v disagrees with Info %+v", op.Line, op, info)
			}
			if op.Kind == KindAlloc {
				live[op.Info]++
			} else if live[op.Info]--; live[op.Info] < 0 {
				t.Fatalf("line %d: free without a live allocation", op.Line)
			}
		case KindTime, KindRSS:
		default:
			t.Fatalf("line %d: unexpected kind %v", op.Line, op.Kind)
		}
	}
	if r.FileVersion() != 3 || r.HeaptrackVersion() != 0x010400 || r.PageSizeBytes() != 4096 {
		t.Errorf("header: file version %d, heaptrack %x, page size %d", r.FileVersion(), r.HeaptrackVersion(), r.PageSizeBytes())
	}
	if !strings.HasPrefix(r.Command(), "/usr/bin/python3.11 -c") {
		t.Errorf("command %q", r.Command())
	}
}

// TestCorruptCompressedInput cuts and damages the compressed traces: each
// must end in an *Error naming a line, never a panic, a hang or a clean EOF.
func TestCorruptCompressedInput(t *testing.T) {
	zst := mustReadFile(t, "python3-json.zst")
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(mustReadFile(t, "sort.txt"))
	w.Close()
	for name, data := range map[string][]byte{"python3-json.zst": zst, "sort.txt.gz": gz.Bytes()} {
		var damaged [][]byte
		for _, n := range []int{1, 2, 4, 5, 8, 13, 20, 100, len(data) / 3, len(data) / 2, len(data) - 9, len(data) - 4, len(data) - 1} {
			damaged = append(damaged, data[:n])
		}
		for _, at := range []int{len(data) / 4, len(data) / 2, len(data) - 6} {
			flipped := bytes.Clone(data)
			flipped[at] ^= 0x40
			damaged = append(damaged, flipped)
		}
		for i, d := range damaged {
			_, err := readAllBytes(t, name, d)
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 {
				t.Errorf("%s damaged #%d (%d bytes): got %v, want an *Error with a line", name, i, len(d), err)
				continue
			}
			t.Logf("%s damaged #%d: %v", name, i, err)
		}
	}
}

// TestNextIsAllocationLight reads a whole trace and counts allocations:
// they come from setup and from growing the info table, not per line.
func TestNextIsAllocationLight(t *testing.T) {
	plain := mustReadFile(t, "sort.txt")
	allocs := testing.AllocsPerRun(5, func() {
		r, err := NewReader(bytes.NewReader(plain), "sort.txt")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readAllDiscard(r); err != nil {
			t.Fatal(err)
		}
	})
	lines := bytes.Count(plain, []byte{'\n'})
	t.Logf("%v allocations for %d lines", allocs, lines)
	if allocs > 40 {
		t.Errorf("%v allocations for %d lines; want a handful", allocs, lines)
	}
}

func readAllDiscard(r *Reader) (int, error) {
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing.zst"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

func TestSummarizeNeedsFreshReader(t *testing.T) {
	r, err := NewReader(strings.NewReader("v 10400 3\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	r.Next()
	if _, err := Summarize(r); err == nil {
		t.Error("Summarize accepted a used Reader")
	}
}

// TestStackDepth: trace 3's frames are 3, 2 and 1 (three deep), trace 1
// is one deep, and an allocation without a backtrace has depth 0.
func TestStackDepth(t *testing.T) {
	text := "v 10400 3\ns 4 main\ni 1 1\ni 2 1\ni 3 1\nt 1 0\nt 2 1\nt 3 2\na 10 3\na 20 1\na 30 0\n+ 0\n+ 1\n+ 2\n"
	ops, err := readAllBytes(t, "depth", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	for _, op := range ops {
		if op.Kind == KindAlloc {
			got = append(got, op.StackDepth)
		}
	}
	if len(got) != 3 || got[0] != 3 || got[1] != 1 || got[2] != 0 {
		t.Errorf("stack depths %v, want [3 1 0]", got)
	}
}
