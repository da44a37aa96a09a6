package heaptrack

// Kind says what an Op records.
type Kind uint8

// The kinds of Op a Reader returns.
const (
	// KindAlloc is one call to an allocation function: Info and SizeBytes
	// are set.
	KindAlloc Kind = iota + 1
	// KindFree frees one live allocation of allocation info Info, of
	// SizeBytes bytes. The Reader only returns it when such an allocation
	// is live, so a replay can always pick one to free.
	KindFree
	// KindTime is a time stamp: TimeMs is the new elapsed time.
	KindTime
	// KindRSS is a resident-set-size sample: RSSPages is set; multiply by
	// Reader.PageSizeBytes for bytes.
	KindRSS
	// KindAttach says heaptrack attached to an already running process, so
	// allocations made before this point are unknown.
	KindAttach

	// kindUnmatchedFree is a free of an info with no live allocation. Only
	// Summarize sees it, because heaptrack_print still subtracts its size.
	kindUnmatchedFree
)

// String names the kind for messages and tests.
func (k Kind) String() string {
	switch k {
	case KindAlloc:
		return "alloc"
	case KindFree:
		return "free"
	case KindTime:
		return "time"
	case KindRSS:
		return "rss"
	case KindAttach:
		return "attach"
	case kindUnmatchedFree:
		return "unmatched-free"
	}
	return "invalid"
}

// Op is one event of a trace, in file order. Fields that do not apply to
// the Kind are zero.
type Op struct {
	Kind Kind
	// Line is the 1-based line of the decompressed text the Op came from.
	Line int
	// Info is the allocation-info index (the N of an "a" line, from 0) of
	// an allocation or free.
	Info uint32
	// SizeBytes is the size of that allocation info.
	SizeBytes uint64
	// StackDepth is the depth of that allocation info's backtrace.
	StackDepth uint32
	// Temporary marks a free that heaptrack counts as a temporary
	// allocation: the previous "+" or "-" line was "+ Info" (heaptrack 1.4
	// also counts "- 0" right after another free or at the very start,
	// because its "last allocation" marker is reset to 0).
	Temporary bool
	// TimeMs is the elapsed time in milliseconds of the latest "c" line at
	// or before this Op (0 before the first one), as heaptrack recorded it.
	TimeMs int64
	// RSSPages is the resident set size of a KindRSS Op, in pages.
	RSSPages uint64
}
