package heaptrack

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

const (
	// MaxLineBytes bounds one line of decompressed text. heaptrack's
	// longest lines are interned strings (long C++ symbol names) and the
	// command line, far below this; a longer line means a corrupt file.
	MaxLineBytes = 1 << 20
	// MaxFileVersion is the newest trace file format this package (and
	// heaptrack 1.4, which writes it) understands.
	MaxFileVersion = 3

	readBufferBytes    = 64 << 10
	zstdMaxWindowBytes = 1 << 27
	// maxIndex is the largest index heaptrack can store: its Index type is
	// a uint32.
	maxIndex = 1<<32 - 1
)

var (
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
	gzipMagic = []byte{0x1f, 0x8b}

	errLineTooLong = errors.New("line too long")
)

// AllocInfo is one "a" line: the size of an allocation and the trace
// (call stack) it came from.
type AllocInfo struct {
	SizeBytes uint64
	// Trace is the 1-based index of the "t" line of the innermost frame,
	// or 0 for an allocation without a backtrace.
	Trace uint32
	// StackDepth is the number of frames of that backtrace: the "t" lines
	// from Trace up its parents to the root (0 without a backtrace).
	StackDepth uint32
}

// Tolerated counts well-formed lines that heaptrack_print 1.4 accepts
// without complaint although a replay cannot act on them. The Reader
// accepts them as well and does not return them as Ops.
type Tolerated struct {
	// UnmatchedFrees counts "-" lines whose allocation info had no live
	// allocation. heaptrack_print still subtracts their size from the
	// leaked and current heap totals; Summarize does the same.
	UnmatchedFrees int64
	// UnmatchedFreeBytes is the total size of those frees.
	UnmatchedFreeBytes uint64
	// UnknownPointerFrees counts version-0 "-" lines naming a pointer that
	// was never allocated (heaptrack attached late); heaptrack skips them.
	UnknownPointerFrees int64
}

// infoState is an allocation info and how many of its allocations are live.
type infoState struct {
	AllocInfo
	live uint64
}

// v0Key identifies an allocation info in a version-0 file, which has no
// "a" lines: heaptrack numbers each new (size, trace) pair in order.
type v0Key struct {
	size  uint64
	trace uint64
}

// Reader streams the Ops of one trace. It is not safe for concurrent use.
// Memory grows with the number of allocation infos (a few words each), not
// with the number of lines.
type Reader struct {
	name    string
	br      *bufio.Reader // decompressed text
	file    io.Closer     // owned, when made by Open or NewReadCloser
	zdec    *zstd.Decoder
	gz      *gzip.Reader
	lineNo  int
	long    []byte // holds lines longer than br's buffer
	err     error  // sticky: io.EOF or the first *Error
	started bool

	heaptrackVersion uint32
	fileVersion      int
	sawVersion       bool
	sawData          bool
	sawCommand       bool
	command          string
	pageSizeBytes    uint64
	physPages        uint64

	numStrings uint64
	numIPs     uint64
	numTraces  uint64
	// depths[k] is the depth of trace k+1 (its frames up to the root).
	depths  []uint32
	infos   []infoState
	v0Infos map[v0Key]uint32
	v0Ptrs  map[uint64]uint32

	// lastKey is heaptrack's lastAllocationPtr: the info index (pointer in
	// version 0) of the latest "+", reset to 0 by every "-".
	lastKey   uint64
	timeMs    int64
	tolerated Tolerated

	// tables, set only by Summarize, keeps the strings, instruction
	// pointers and traces needed to apply leak suppressions; it also makes
	// Next return kindUnmatchedFree Ops.
	tables *traceTables
}

// Open opens the trace at path; see NewReader. Errors opening the file
// are returned as they come from os.Open (*fs.PathError); the Reader's
// Close closes the file.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewReadCloser is NewReader for a source the Reader then owns: Close
// closes it, also when NewReadCloser fails.
func NewReadCloser(src io.ReadCloser, name string) (*Reader, error) {
	r, err := NewReader(src, name)
	if err != nil {
		src.Close()
		return nil, err
	}
	r.file = src
	return r, nil
}

// NewReader reads a trace from src, detecting zstd and gzip compression by
// their magic numbers and reading anything else as plain text. name is used
// in error messages. Close releases the decompressor but does not close
// src. Errors are *Error values with Line 1.
func NewReader(src io.Reader, name string) (*Reader, error) {
	r := &Reader{name: name, lineNo: 1}
	raw := bufio.NewReaderSize(src, readBufferBytes)
	magic, err := raw.Peek(len(zstdMagic))
	if err != nil && err != io.EOF {
		return nil, r.ioError(err)
	}
	switch {
	case bytes.HasPrefix(magic, zstdMagic):
		// One decoder goroutine-free stream: concurrency 1 decodes
		// synchronously, and a bounded window bounds memory on corrupt input.
		dec, err := zstd.NewReader(raw, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(zstdMaxWindowBytes))
		if err != nil {
			return nil, r.ioError(err)
		}
		r.zdec = dec
		r.br = bufio.NewReaderSize(dec, readBufferBytes)
	case bytes.HasPrefix(magic, gzipMagic):
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return nil, r.ioError(err)
		}
		r.gz = gz
		r.br = bufio.NewReaderSize(gz, readBufferBytes)
	default:
		r.br = raw
	}
	r.lineNo = 0
	return r, nil
}

// Close releases the decompressor and, for a Reader made by Open, closes
// the file. It is safe to call more than once. Next after Close returns a
// plain (non-*Error) error, since it is a mistake in the caller.
func (r *Reader) Close() error {
	if r.zdec != nil {
		r.zdec.Close()
		r.zdec = nil
	}
	var err error
	if r.gz != nil {
		err = r.gz.Close()
		r.gz = nil
	}
	if r.file != nil {
		if cerr := r.file.Close(); err == nil {
			err = cerr
		}
		r.file = nil
	}
	if r.err == nil {
		r.err = errors.New("heaptrack: Next called after Close")
	}
	return err
}

// Name returns the name used in error messages.
func (r *Reader) Name() string { return r.name }

// Line returns the number of the last line read (0 before the first).
func (r *Reader) Line() int { return r.lineNo }

// FileVersion returns the trace file format version from the "v" line
// (0 when there is none, as for heaptrack before 1.0).
func (r *Reader) FileVersion() int { return r.fileVersion }

// HeaptrackVersion returns the version of heaptrack that wrote the file,
// encoded as 0xMMmmpp (0x010400 for 1.4.0), or 0 when unknown.
func (r *Reader) HeaptrackVersion() uint32 { return r.heaptrackVersion }

// Command returns the debuggee command line from the "X" line, if read.
func (r *Reader) Command() string { return r.command }

// PageSizeBytes returns the page size from the "I" line (0 until read);
// RSS samples are in these pages.
func (r *Reader) PageSizeBytes() uint64 { return r.pageSizeBytes }

// PhysicalPages returns the machine's number of physical pages from the
// "I" line (0 until read).
func (r *Reader) PhysicalPages() uint64 { return r.physPages }

// NumInfos returns how many allocation infos have been read so far.
func (r *Reader) NumInfos() int { return len(r.infos) }

// Info returns allocation info i, if it has been read.
func (r *Reader) Info(i uint32) (AllocInfo, bool) {
	if int64(i) >= int64(len(r.infos)) {
		return AllocInfo{}, false
	}
	return r.infos[i].AllocInfo, true
}

// Tolerated returns the counts of odd but accepted lines read so far.
func (r *Reader) Tolerated() Tolerated { return r.tolerated }

// Next returns the next Op, or io.EOF after the last one, or an *Error
// (also for read and decompression failures, with the underlying error
// available through errors.Unwrap).
// Lines that carry no Op (strings, traces, allocation infos, comments) are
// validated and skipped. Errors are sticky: once Next fails it keeps
// returning the same error.
func (r *Reader) Next() (Op, error) {
	if r.err != nil {
		return Op{}, r.err
	}
	r.started = true
	for {
		line, err := r.readLine()
		if err != nil {
			r.err = err
			return Op{}, err
		}
		op, ok, err := r.parseLine(line)
		if err != nil {
			r.err = err
			return Op{}, err
		}
		if ok {
			op.Line = r.lineNo
			op.TimeMs = r.timeMs
			return op, nil
		}
	}
}

// readLine returns the next line without its newline. The slice is valid
// until the next call.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		line, err = r.readLongLine(line)
	}
	if len(line) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	r.lineNo++
	switch {
	case err == errLineTooLong:
		return nil, r.errorf("line is longer than %d bytes; the file is corrupt", MaxLineBytes)
	case err != nil && err != io.EOF:
		return nil, r.ioError(err)
	}
	return bytes.TrimSuffix(line, []byte{'\n'}), nil
}

// readLongLine gathers a line that does not fit into the bufio buffer.
func (r *Reader) readLongLine(first []byte) ([]byte, error) {
	r.long = append(r.long[:0], first...)
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(r.long)+len(chunk) > MaxLineBytes {
			return r.long, errLineTooLong
		}
		r.long = append(r.long, chunk...)
		if err != bufio.ErrBufferFull {
			return r.long, err
		}
	}
}
