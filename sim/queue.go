package sim

// entry is one pending event as the queue sees it: 16 bytes, so four
// children of a 4-ary node share one 64-byte cache line.
//
// key packs the scheduling sequence number (high 40 bits) and the slot of the
// event's record (low 24 bits). Sequence numbers are unique, so comparing
// keys compares sequence numbers and the slot never decides an order.
type entry struct {
	at  int64
	key uint64
}

const (
	slotBits = 24
	slotMask = 1<<slotBits - 1
	// MaxPending is the most events that can be pending at once.
	MaxPending = 1 << slotBits
	// maxSeq is the most events one engine can ever schedule.
	maxSeq = 1<<(64-slotBits) - 1
)

func (e entry) slot() uint32 { return uint32(e.key & slotMask) }

func less(a, b entry) bool {
	return a.at < b.at || (a.at == b.at && a.key < b.key)
}
