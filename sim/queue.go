package sim

// entry is one pending event: its time, its order key and its payload, 32
// bytes, so that running it touches no memory but the entry itself.
//
// key packs the scheduling sequence number (high 48 bits) and the event
// kind (low 16 bits). Sequence numbers are unique, so comparing keys
// compares sequence numbers and the kind never decides an order.
type entry struct {
	at   int64
	key  uint64
	a, b int64
}

const (
	kindBits = 16
	// maxSeq is the most events one engine can ever schedule.
	maxSeq = 1<<(64-kindBits) - 1
	// MaxPending is the most events that can be pending at once.
	MaxPending = 1 << 28
)

func (e entry) kind() Kind { return Kind(e.key) }

func less(a, b entry) bool {
	return a.at < b.at || (a.at == b.at && a.key < b.key)
}
