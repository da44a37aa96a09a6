package heaptrack

import (
	"errors"
	"io"
)

// Summary holds the totals heaptrack_print 1.4 prints at the end of its
// report, computed with the semantics of its reader
// (src/analyze/accumulatedtracedata.cpp), and the Reader's own view of the
// heap at the end of the trace.
type Summary struct {
	// Calls is "calls to allocation functions": the number of "+" lines.
	Calls int64
	// Temporary is "temporary memory allocations": frees with
	// Op.Temporary set (heaptrack's definition, quirks included).
	Temporary int64
	// PeakBytes is "peak heap memory consumption": the largest value of
	// the running total (allocated minus freed bytes), checked after each
	// allocation only.
	PeakBytes int64
	// PeakTimeMs is the time stamp at which PeakBytes was first reached.
	PeakTimeMs int64
	// LeakedBytes is "total memory leaked": the running total at the end,
	// minus SuppressedBytes.
	LeakedBytes int64
	// SuppressedBytes is "suppressed leaks": the part of the running total
	// whose allocation traces match heaptrack's built-in suppressions or
	// suppressions embedded in the file ("S" lines). heaptrack_print
	// prints the line only when this is not zero. Suppressions given to
	// heaptrack_print on its command line are not modelled.
	SuppressedBytes int64
	// LiveBytes is what a replay of the Ops still holds at the end: the
	// sum over allocation infos of live allocations times size. It equals
	// LeakedBytes + SuppressedBytes + Tolerated.UnmatchedFreeBytes,
	// because heaptrack subtracts unmatched frees and a replay cannot.
	LiveBytes int64
	// DurationMs is heaptrack's total runtime: the last time stamp plus 1.
	// heaptrack_print shows it in seconds as "total runtime".
	DurationMs int64
	// PeakRSSBytes is "peak RSS (including heaptrack overhead)": the
	// largest "R" sample times the page size of the "I" line.
	PeakRSSBytes int64
	// Attached is set when the trace has an "A" line. heaptrack 1.4 reads
	// traces in two passes and resets its totals at "A" only in the
	// first, so "A" does not change the printed totals, nor ours.
	Attached bool
	// Tolerated counts the odd lines accepted on the way.
	Tolerated Tolerated
}

// summaryState accumulates a Summary from Ops.
type summaryState struct {
	s           Summary
	heapBytes   int64   // heaptrack's totalCost.leaked while reading
	netCount    []int64 // per info: allocations minus frees
	peakRSSPage int64
}

// Summarize reads all of r, which must be fresh (Next not yet called), and
// returns the totals heaptrack_print reports. It keeps the strings and
// traces of the file in memory to apply leak suppressions, so it needs
// more memory than replaying with Next. Errors are those of Next; r is
// not closed.
func Summarize(r *Reader) (Summary, error) {
	if r.started || r.err != nil {
		return Summary{}, errors.New("heaptrack: Summarize needs a Reader on which Next has not been called")
	}
	r.tables = newTraceTables()
	var st summaryState
	for {
		op, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Summary{}, err
		}
		st.apply(op, r.NumInfos())
	}
	return st.finish(r), nil
}

// apply accounts one Op the way heaptrack_print's reader accounts its line.
func (st *summaryState) apply(op Op, numInfos int) {
	switch op.Kind {
	case KindAlloc:
		st.count(op.Info, 1, numInfos)
		st.s.Calls++
		st.heapBytes += int64(op.SizeBytes)
		if st.heapBytes > st.s.PeakBytes {
			st.s.PeakBytes = st.heapBytes
			st.s.PeakTimeMs = op.TimeMs
		}
	case KindFree, kindUnmatchedFree:
		st.count(op.Info, -1, numInfos)
		st.heapBytes -= int64(op.SizeBytes)
		if op.Temporary {
			st.s.Temporary++
		}
	case KindRSS:
		if int64(op.RSSPages) > st.peakRSSPage {
			st.peakRSSPage = int64(op.RSSPages)
		}
	case KindAttach:
		st.s.Attached = true
	}
}

// count adds delta to the net allocation count of an info.
func (st *summaryState) count(info uint32, delta int64, numInfos int) {
	if int(info) >= len(st.netCount) {
		st.netCount = append(st.netCount, make([]int64, numInfos-len(st.netCount))...)
	}
	st.netCount[info] += delta
}

// finish applies leak suppressions and derives the remaining totals.
func (st *summaryState) finish(r *Reader) Summary {
	s := st.s
	s.DurationMs = r.timeMs + 1
	s.PeakRSSBytes = st.peakRSSPage * int64(r.pageSizeBytes)
	s.Tolerated = r.tolerated
	suppressed := r.tables.suppressedTraces()
	for i, info := range r.infos {
		s.LiveBytes += int64(info.live) * int64(info.SizeBytes)
		if i >= len(st.netCount) || info.Trace == 0 || suppressed == nil {
			continue
		}
		if suppressed[info.Trace-1] {
			s.SuppressedBytes += st.netCount[i] * int64(info.SizeBytes)
		}
	}
	s.LeakedBytes = st.heapBytes - s.SuppressedBytes
	return s
}
