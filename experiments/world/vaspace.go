package world

// vaSpace hands out aligned virtual address ranges, reusing freed ones of
// the same order, so that an SBMP process's addresses never collide while
// the kernel model reuses page frames.
type vaSpace struct {
	next     uint64
	released map[int][]uint64 // freed ranges by order
}

func newVASpace() vaSpace { return vaSpace{next: 1 << 32, released: map[int][]uint64{}} }

func (v *vaSpace) alloc(order int) uint64 {
	if l := v.released[order]; len(l) > 0 {
		a := l[len(l)-1]
		v.released[order] = l[:len(l)-1]
		return a
	}
	size := uint64(4096) << order
	v.next = (v.next + size - 1) &^ (size - 1)
	a := v.next
	v.next += size
	return a
}

func (v *vaSpace) free(addr uint64, order int) { v.released[order] = append(v.released[order], addr) }
