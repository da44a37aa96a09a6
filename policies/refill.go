package policies

import "github.com/sbmpsim/sbmpsim/sbmp"

var batchParam = Param{Name: "batch", Unit: "slots", Default: 64, Min: 1, Max: 65536, Integer: true, Doc: "slots moved into the cache per refill"}

func refillSpecs() []Spec {
	return []Spec{
		{Kind: KindRefill, Name: "fixed-batch", Doc: "Refill `policy.refill_batch` slots from the home node, growing its Tier-1 from Tier-2 when empty, then from other nodes nearest first.",
			Params: []Param{batchParam},
			build:  func(v Values) any { return &sbmp.FixedBatchRefill{Slots: int(v["batch"])} }},
		{Kind: KindRefill, Name: "adaptive-batch", Doc: "Like fixed-batch, but the batch doubles (up to `policy.refill_max_batch`) while refills of a CPU and class come within `policy.refill_window_ms` of each other and halves (down to `policy.refill_min_batch`) after a quiet window, as TCMalloc's per-CPU caches resize.",
			Params: []Param{
				{Name: "min_batch", Unit: "slots", Default: 16, Min: 1, Max: 65536, Integer: true, Doc: "smallest batch"},
				{Name: "max_batch", Unit: "slots", Default: 512, Min: 1, Max: 65536, Integer: true, Doc: "largest batch"},
				{Name: "window_ms", Unit: "ms", Default: 1, Min: 0.001, Max: 60000, Doc: "refills closer than this grow the batch; gaps longer shrink it"},
			},
			build: func(v Values) any {
				return &adaptiveBatch{minBatch: int(v["min_batch"]), maxBatch: max(int(v["max_batch"]), int(v["min_batch"])), windowNs: int64(v["window_ms"] * 1e6)}
			}},
		{Kind: KindRefill, Name: "local-first", Doc: "Refill from the home node only while it has or can get memory (growing from Tier-2); take remote nodes' existing slabs only when local memory cannot grow.",
			Params: []Param{batchParam},
			build:  func(v Values) any { return &planner{batch: int(v["batch"]), mode: modeLocalFirst} }},
		{Kind: KindRefill, Name: "nearest-node", Doc: "Take existing free slabs from any node, nearest first, before growing the home node from Tier-2: less memory, more remote refills.",
			Params: []Param{batchParam},
			build:  func(v Values) any { return &planner{batch: int(v["batch"]), mode: modeNearest} }},
		{Kind: KindRefill, Name: "interleave", Doc: "Start each refill at the next node in turn (round robin over all nodes), growing where needed: spreads memory across nodes.",
			Params: []Param{batchParam},
			build:  func(v Values) any { return &planner{batch: int(v["batch"]), mode: modeInterleave} }},
		{Kind: KindRefill, Name: "steal-peer", Doc: "Before touching Tier-1, steal up to half of each peer CPU's cached slots on the same node; then as fixed-batch.",
			Params: []Param{batchParam},
			build:  func(v Values) any { return &planner{batch: int(v["batch"]), mode: modeStealPeer} }},
	}
}

type planMode int

const (
	modeLocalFirst planMode = iota
	modeNearest
	modeInterleave
	modeStealPeer
)

// planner builds the node steps of the node-order policies.
type planner struct {
	batch int
	mode  planMode
	next  int // interleave cursor
	steps []sbmp.RefillStep
}

func (p *planner) Name() string {
	return [...]string{"local-first", "nearest-node", "interleave", "steal-peer"}[p.mode]
}

func (p *planner) Plan(s sbmp.RefillState, topo sbmp.Topology) sbmp.RefillPlan {
	p.steps = p.steps[:0]
	order := topo.NodesByDistance(s.Home)
	switch p.mode {
	case modeLocalFirst:
		p.steps = append(p.steps, sbmp.RefillStep{Node: s.Home, Grow: true})
		for _, n := range order[1:] {
			p.steps = append(p.steps, sbmp.RefillStep{Node: n})
		}
	case modeNearest:
		for _, n := range order {
			p.steps = append(p.steps, sbmp.RefillStep{Node: n})
		}
		p.steps = append(p.steps, sbmp.RefillStep{Node: s.Home, Grow: true})
	case modeInterleave:
		nodes := topo.NumNodes()
		start := p.next % nodes
		p.next++
		for i := range nodes {
			p.steps = append(p.steps, sbmp.RefillStep{Node: (start + i) % nodes, Grow: true})
		}
	case modeStealPeer:
		for _, n := range order {
			p.steps = append(p.steps, sbmp.RefillStep{Node: n, Grow: true})
		}
		return sbmp.RefillPlan{Batch: p.batch, StealPeers: true, Steps: p.steps}
	}
	return sbmp.RefillPlan{Batch: p.batch, Steps: p.steps}
}

// adaptiveBatch keeps a batch size per (CPU, class).
type adaptiveBatch struct {
	minBatch, maxBatch int
	windowNs           int64
	state              map[[2]int]adaptiveState
	steps              []sbmp.RefillStep
}

type adaptiveState struct {
	batch  int
	lastNs int64
}

func (*adaptiveBatch) Name() string { return "adaptive-batch" }

func (p *adaptiveBatch) Plan(s sbmp.RefillState, topo sbmp.Topology) sbmp.RefillPlan {
	if p.state == nil {
		p.state = map[[2]int]adaptiveState{}
	}
	key := [2]int{s.CPU, s.Class}
	st, seen := p.state[key]
	switch {
	case !seen:
		st.batch = p.minBatch
	case s.NowNs-st.lastNs <= p.windowNs:
		st.batch = min(st.batch*2, p.maxBatch)
	default:
		st.batch = max(st.batch/2, p.minBatch)
	}
	st.lastNs = s.NowNs
	p.state[key] = st
	p.steps = p.steps[:0]
	for _, n := range topo.NodesByDistance(s.Home) {
		p.steps = append(p.steps, sbmp.RefillStep{Node: n, Grow: true})
	}
	return sbmp.RefillPlan{Batch: st.batch, Steps: p.steps}
}
