package sbmp

import "fmt"

// fakeEnv is a small deterministic environment for tests: a clock the test
// moves, a page source over a flat address space with a page limit (so
// Tier-2 can run dry), a topology of cpus spread over nodes, and a cost
// model that charges remote refills more.
type fakeEnv struct {
	now      int64
	cpus     int
	nodes    int
	limit    int64 // pages the source may hand out
	used     int64
	next     uint64           // bump pointer, 4 MiB aligned start
	freeList map[int][]uint64 // per order, blocks returned
	out      map[uint64]int   // outstanding blocks by address -> order
	frees    int
	// freeCPUs are the cpu arguments of FreePages, in order.
	freeCPUs []int
	// offline[n] takes node n's memory offline (NodeHealth); slow
	// multiplies the price of every cross-node operation (a NUMA latency
	// fault), 0 meaning 1.
	offline []bool
	slow    int64
	// cost, when set, prices every operation instead of the rule below.
	cost func(op CostOp, from, to int, bytes int64) int64
}

func newFakeEnv(cpus, nodes int, limitPages int64) *fakeEnv {
	return &fakeEnv{cpus: cpus, nodes: nodes, limit: limitPages, next: 1 << 22, freeList: map[int][]uint64{}, out: map[uint64]int{}}
}

func (f *fakeEnv) env() Env { return Env{Clock: f, Pages: f, Topology: f, Cost: f} }

func (f *fakeEnv) Now() int64 { return f.now }

func (f *fakeEnv) AllocPages(cpu, node, order int, flags PageFlags) (uint64, int, int64, bool) {
	pages := int64(1) << order
	if f.used+pages > f.limit {
		return 0, node, 1000, false
	}
	var addr uint64
	if l := f.freeList[order]; len(l) > 0 {
		addr = l[len(l)-1]
		f.freeList[order] = l[:len(l)-1]
	} else {
		size := uint64(4096) << order
		f.next = (f.next + size - 1) &^ (size - 1)
		addr = f.next
		f.next += size
	}
	f.used += pages
	f.out[addr] = order
	return addr, node, 0, true
}

func (f *fakeEnv) FreePages(cpu int, addr uint64, order int) {
	if o, ok := f.out[addr]; !ok || o != order {
		panic(fmt.Sprintf("fake page source: free of %#x order %d, outstanding order %d (%v)", addr, order, o, ok))
	}
	delete(f.out, addr)
	f.freeCPUs = append(f.freeCPUs, cpu)
	f.used -= int64(1) << order
	f.freeList[order] = append(f.freeList[order], addr)
	f.frees++
}

func (f *fakeEnv) NumCPUs() int          { return f.cpus }
func (f *fakeEnv) NumNodes() int         { return f.nodes }
func (f *fakeEnv) NodeOfCPU(cpu int) int { return cpu * f.nodes / f.cpus }
func (f *fakeEnv) NodesByDistance(node int) []int {
	out := []int{node}
	for n := range f.nodes {
		if n != node {
			out = append(out, n)
		}
	}
	return out
}

func (f *fakeEnv) CostNs(op CostOp, from, to int, bytes int64) int64 {
	if f.cost != nil {
		return f.cost(op, from, to, bytes)
	}
	base := int64(10)
	if from != to {
		base = 100 * max(f.slow, 1)
	}
	return base + bytes/64
}

// NodeOnline implements NodeHealth.
func (f *fakeEnv) NodeOnline(node int) bool { return node >= len(f.offline) || !f.offline[node] }
