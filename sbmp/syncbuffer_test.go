package sbmp

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"
)

const (
	syncBlockA = 0x20_0000
	syncBlockB = 0x40_0000
	syncBlockC = 0x60_0000
)

// TestSyncBufferScript runs scripted sequences, checking each call's result
// and the buffer's state after it.
func TestSyncBufferScript(t *testing.T) {
	type op struct {
		kind   string // init, begin, commit, abort
		state  State  // for begin
		expect uint64
		block  uint64 // init/begin: the block; commit/abort: the block returned
		err    error
		after  SyncState
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"first switch from none", []op{
			{kind: "begin", state: StateSyncing, expect: 0, block: syncBlockA, after: SyncState{Shadow: syncBlockA, Version: 2, Pending: true}},
			{kind: "commit", expect: 2, block: 0, after: SyncState{Local: syncBlockA, Version: 3}},
		}},
		{"init then switch", []op{
			{kind: "init", block: syncBlockA, after: SyncState{Local: syncBlockA, Version: 2}},
			{kind: "init", block: syncBlockB, err: ErrBufferInUse, after: SyncState{Local: syncBlockA, Version: 2}},
			{kind: "begin", state: StateSyncing, expect: 2, block: syncBlockB, after: SyncState{Local: syncBlockA, Shadow: syncBlockB, Version: 4, Pending: true}},
			{kind: "commit", expect: 4, block: syncBlockA, after: SyncState{Local: syncBlockB, Version: 5}},
			{kind: "begin", state: StateSyncing, expect: 5, block: syncBlockA, after: SyncState{Local: syncBlockB, Shadow: syncBlockA, Version: 7, Pending: true}},
			{kind: "commit", expect: 7, block: syncBlockB, after: SyncState{Local: syncBlockA, Version: 8}},
		}},
		{"abort keeps local", []op{
			{kind: "init", block: syncBlockA, after: SyncState{Local: syncBlockA, Version: 2}},
			{kind: "begin", state: StateSyncing, expect: 2, block: syncBlockB, after: SyncState{Local: syncBlockA, Shadow: syncBlockB, Version: 4, Pending: true}},
			{kind: "abort", expect: 4, block: syncBlockB, after: SyncState{Local: syncBlockA, Version: 5}},
			{kind: "commit", expect: 5, err: ErrNoShadow, after: SyncState{Local: syncBlockA, Version: 5}},
			{kind: "abort", expect: 5, err: ErrNoShadow, after: SyncState{Local: syncBlockA, Version: 5}},
		}},
		{"rejected begins change nothing", []op{
			{kind: "init", block: syncBlockA, after: SyncState{Local: syncBlockA, Version: 2}},
			{kind: "begin", state: StateActive, expect: 2, block: syncBlockB, err: ErrNotSyncing, after: SyncState{Local: syncBlockA, Version: 2}},
			{kind: "begin", state: StateIdle, expect: 2, block: syncBlockB, err: ErrNotSyncing, after: SyncState{Local: syncBlockA, Version: 2}},
			{kind: "begin", state: StateSyncing, expect: 2, block: 0, err: ErrNoBlock, after: SyncState{Local: syncBlockA, Version: 2}},
			{kind: "begin", state: StateSyncing, expect: 2, block: syncBlockA, err: ErrSameBlock, after: SyncState{Local: syncBlockA, Version: 2}},
			{kind: "begin", state: StateSyncing, expect: 1, block: syncBlockB, err: ErrStaleVersion, after: SyncState{Local: syncBlockA, Version: 2}},
			{kind: "begin", state: StateSyncing, expect: 3, block: syncBlockB, err: ErrStaleVersion, after: SyncState{Local: syncBlockA, Version: 2}},
		}},
		{"no shadow is overwritten or committed stale", []op{
			{kind: "init", block: syncBlockA, after: SyncState{Local: syncBlockA, Version: 2}},
			{kind: "begin", state: StateSyncing, expect: 2, block: syncBlockB, after: SyncState{Local: syncBlockA, Shadow: syncBlockB, Version: 4, Pending: true}},
			{kind: "begin", state: StateSyncing, expect: 4, block: syncBlockC, err: ErrShadowPending, after: SyncState{Local: syncBlockA, Shadow: syncBlockB, Version: 4, Pending: true}},
			{kind: "begin", state: StateSyncing, expect: 2, block: syncBlockC, err: ErrStaleVersion, after: SyncState{Local: syncBlockA, Shadow: syncBlockB, Version: 4, Pending: true}},
			{kind: "commit", expect: 2, err: ErrStaleVersion, after: SyncState{Local: syncBlockA, Shadow: syncBlockB, Version: 4, Pending: true}},
			{kind: "commit", expect: 3, err: ErrStaleVersion, after: SyncState{Local: syncBlockA, Shadow: syncBlockB, Version: 4, Pending: true}},
			{kind: "abort", expect: 5, err: ErrStaleVersion, after: SyncState{Local: syncBlockA, Shadow: syncBlockB, Version: 4, Pending: true}},
			{kind: "commit", expect: 4, block: syncBlockA, after: SyncState{Local: syncBlockB, Version: 5}},
			{kind: "commit", expect: 4, err: ErrStaleVersion, after: SyncState{Local: syncBlockB, Version: 5}},
		}},
		{"init rejects block 0", []op{
			{kind: "init", block: 0, err: ErrNoBlock, after: SyncState{}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b SyncBuffer
			for i, o := range tc.ops {
				var got uint64
				var err error
				switch o.kind {
				case "init":
					_, err = b.Init(o.block)
				case "begin":
					_, err = b.BeginSync(o.state, o.expect, o.block)
				case "commit":
					got, _, err = b.Commit(o.expect)
				case "abort":
					got, _, err = b.Abort(o.expect)
				}
				if !errors.Is(err, o.err) || (o.err == nil) != (err == nil) {
					t.Fatalf("op %d %s: err = %v, want %v", i, o.kind, err, o.err)
				}
				if err == nil && (o.kind == "commit" || o.kind == "abort") && got != o.block {
					t.Fatalf("op %d %s returned block %#x, want %#x", i, o.kind, got, o.block)
				}
				if s := b.Snapshot(); s != o.after {
					t.Fatalf("op %d %s: state %+v, want %+v", i, o.kind, s, o.after)
				}
				if local, v := b.Load(); local != o.after.Local || v != o.after.Version {
					t.Fatalf("op %d %s: Load() = %#x, %d", i, o.kind, local, v)
				}
				if b.Pending() != o.after.Pending {
					t.Fatalf("op %d %s: Pending() = %v", i, o.kind, b.Pending())
				}
			}
		})
	}
}

func TestSyncBufferVersionLimit(t *testing.T) {
	var b SyncBuffer
	b.word.Store(packWord(maxVersion-2, 0, phaseIdle))
	if _, err := b.BeginSync(StateSyncing, maxVersion-2, syncBlockA); !errors.Is(err, ErrVersionExhausted) {
		t.Fatalf("BeginSync at the limit: %v", err)
	}
	b.word.Store(packWord(maxVersion-3, 0, phaseIdle))
	v, err := b.BeginSync(StateSyncing, maxVersion-3, syncBlockA)
	if err != nil {
		t.Fatal(err)
	}
	if _, v, err = b.Commit(v); err != nil || v != maxVersion {
		t.Fatalf("Commit = %d, %v; want %d", v, err, uint64(maxVersion))
	}
	if local, got := b.Load(); local != syncBlockA || got != maxVersion {
		t.Fatalf("Load() = %#x, %d", local, got)
	}
}

func TestSyncBufferDoesNotAllocate(t *testing.T) {
	var b SyncBuffer
	block := uint64(syncBlockA)
	allocs := testing.AllocsPerRun(1000, func() {
		_, v := b.Load()
		block += syncBlockA
		v, err := b.BeginSync(StateSyncing, v, block)
		if err != nil {
			panic(err)
		}
		if _, _, err := b.Commit(v - 1); err == nil {
			panic("stale commit accepted")
		}
		if _, _, err := b.Commit(v); err != nil {
			panic(err)
		}
		_ = b.Snapshot()
	})
	if allocs != 0 {
		t.Errorf("a sync cycle allocates %v times", allocs)
	}
}

// syncOp is a successful mutation seen by one goroutine of the race test.
type syncOp struct {
	kind           byte // 'b' begin, 'c' commit, 'a' abort
	expect, result uint64
	block          uint64 // begin: shadow; commit: retired; abort: dropped
}

// syncWriter runs n random sync steps on b with unique shadow blocks
// (goroutine id in the high bits) and returns its successful operations.
// Some steps commit or abort blindly at the version Load returned, which
// may be another writer's claim, not yet published.
func syncWriter(b *SyncBuffer, id, n int) []syncOp {
	rng := rand.New(rand.NewPCG(uint64(id), 7))
	var ops []syncOp
	next := uint64(id+1) << 40
	finish := func(v uint64) {
		// Commit twice as often as abort.
		if rng.IntN(3) > 0 {
			if old, nv, err := b.Commit(v); err == nil {
				ops = append(ops, syncOp{'c', v, nv, old})
			}
		} else if dropped, nv, err := b.Abort(v); err == nil {
			ops = append(ops, syncOp{'a', v, nv, dropped})
		}
	}
	for range n {
		// Yield often, so that on few cores the scheduler rotates
		// writers and readers in microseconds rather than 10 ms slices.
		runtime.Gosched()
		if rng.IntN(4) == 0 {
			_, v := b.Load()
			finish(v)
			continue
		}
		s := b.Snapshot()
		if !s.Pending {
			next += 1 << 21
			v, err := b.BeginSync(StateSyncing, s.Version, next)
			if err != nil {
				continue
			}
			ops = append(ops, syncOp{'b', s.Version, v, next})
			s.Version = v
		}
		// Finish our own sync or someone else's: the version is the
		// capability.
		finish(s.Version)
	}
	return ops
}

// loadSample is what a reader saw.
type loadSample struct{ version, local uint64 }

// syncReader loads until stop is set, failing on a version that goes
// backwards, and returns what it saw.
func syncReader(t *testing.T, b *SyncBuffer, stop *atomic.Bool) []loadSample {
	var out []loadSample
	var last uint64
	for !stop.Load() {
		local, v := b.Load()
		if v < last {
			t.Errorf("reader saw version %d after %d", v, last)
			return out
		}
		if v != last || len(out) == 0 {
			out = append(out, loadSample{v, local})
		}
		last = v
		runtime.Gosched()
	}
	return out
}

// TestSyncBufferConcurrent has writers begin, commit and abort syncs while
// readers load, then replays the successful operations in version order:
// they must form one chain (each starts at the version the previous one
// produced), every begun shadow is committed or aborted exactly once (or
// still pending), each commit retires the block the previous commit
// installed, no aborted shadow ever becomes local, and every reader saw
// the local of its version.
func TestSyncBufferConcurrent(t *testing.T) {
	const writers, readers, steps = 4, 2, 3000
	var b SyncBuffer
	var stop atomic.Bool
	writerOps := make([][]syncOp, writers)
	samples := make([][]loadSample, readers)
	var wg, rg sync.WaitGroup
	for r := range readers {
		rg.Go(func() { samples[r] = syncReader(t, &b, &stop) })
	}
	for w := range writers {
		wg.Go(func() { writerOps[w] = syncWriter(&b, w, steps) })
	}
	wg.Wait()
	stop.Store(true)
	rg.Wait()

	ops := slices.Concat(writerOps...)
	slices.SortFunc(ops, func(x, y syncOp) int { return cmp.Compare(x.result, y.result) })
	localAt := replaySyncOps(t, ops)

	var commits int
	for _, o := range ops {
		if o.kind == 'c' {
			commits++
		}
	}
	if commits == 0 {
		t.Fatal("no switch committed; the test exercised nothing")
	}
	aborted := map[uint64]bool{}
	for _, o := range ops {
		if o.kind == 'a' {
			aborted[o.block] = true
		}
	}
	for _, rs := range samples {
		for _, s := range rs {
			want, ok := localAt[s.version]
			if !ok || s.local != want {
				t.Fatalf("reader saw local %#x at version %d; history says %#x (known %v)", s.local, s.version, want, ok)
			}
			if aborted[s.local] {
				t.Fatalf("aborted shadow %#x served as local", s.local)
			}
		}
	}
	local, v := b.Load()
	last := uint64(0)
	if len(ops) > 0 {
		last = ops[len(ops)-1].result
	}
	if v != last || local != localAt[v] {
		t.Fatalf("final Load() = %#x, %d; history ends with %#x at %d", local, v, localAt[last], last)
	}
	t.Logf("%d operations (%d commits), %d reader samples", len(ops), commits, len(samples[0])+len(samples[1]))
}

// replaySyncOps checks that ops, sorted by result version, form one chain
// from version 0 and replay correctly on a sequential model; it returns
// the local block at every version the chain passed through.
func replaySyncOps(t *testing.T, ops []syncOp) map[uint64]uint64 {
	t.Helper()
	var local, shadow, version uint64
	localAt := map[uint64]uint64{0: 0}
	fates := map[uint64]byte{} // shadow block -> 'b' pending, 'c' committed, 'a' aborted
	for i, o := range ops {
		if o.expect != version {
			t.Fatalf("op %d %c starts at version %d, but the chain is at %d: an operation was lost", i, o.kind, o.expect, version)
		}
		switch o.kind {
		case 'b':
			if shadow != 0 || o.result != version+2 || o.block == local || fates[o.block] != 0 {
				t.Fatalf("op %d: begin %#x over shadow %#x, local %#x, versions %d->%d", i, o.block, shadow, local, version, o.result)
			}
			localAt[version+1] = local // the claim
			shadow = o.block
			fates[shadow] = 'b'
		case 'c', 'a':
			want := local
			if o.kind == 'a' {
				want = shadow
			}
			if shadow == 0 || o.block != want || o.result != version+1 {
				t.Fatalf("op %d %c: returned %#x, want %#x (shadow %#x), versions %d->%d", i, o.kind, o.block, want, shadow, version, o.result)
			}
			if o.kind == 'c' {
				local = shadow
			}
			fates[shadow] = o.kind
			shadow = 0
		}
		version = o.result
		localAt[version] = local
	}
	return localAt
}

// syncModel is the rapid test's sequential reference.
type syncModel struct {
	b                      SyncBuffer
	local, shadow, version uint64
	nextBlock              uint64
}

func (s *syncModel) drawVersion(t *rapid.T) uint64 {
	switch rapid.IntRange(0, 3).Draw(t, "versionKind") {
	case 0:
		return s.version - 1
	case 1:
		return s.version + 1
	}
	return s.version
}

// syncExpectErr fails unless err is nil when want is empty, or one of want.
func syncExpectErr(t *rapid.T, what string, err error, want []error) {
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("%s: unexpected %v", what, err)
		}
		return
	}
	for _, w := range want {
		if errors.Is(err, w) {
			return
		}
	}
	t.Fatalf("%s: err = %v, want one of %v", what, err, want)
}

func (s *syncModel) begin(t *rapid.T) {
	state := State(rapid.IntRange(0, int(NumStates)-1).Draw(t, "state"))
	if rapid.IntRange(0, 2).Draw(t, "forceSyncing") > 0 {
		state = StateSyncing
	}
	s.nextBlock += 1 << 21
	block := rapid.SampledFrom([]uint64{s.nextBlock, s.nextBlock, 0, s.local, s.shadow}).Draw(t, "block")
	expect := s.drawVersion(t)
	var want []error
	if state != StateSyncing {
		want = append(want, ErrNotSyncing)
	}
	if block == 0 {
		want = append(want, ErrNoBlock)
	}
	if expect != s.version {
		want = append(want, ErrStaleVersion)
	}
	if s.shadow != 0 {
		want = append(want, ErrShadowPending)
	}
	if block == s.local {
		want = append(want, ErrSameBlock)
	}
	v, err := s.b.BeginSync(state, expect, block)
	syncExpectErr(t, "BeginSync", err, want)
	if err == nil {
		if v != s.version+2 {
			t.Fatalf("BeginSync version %d after %d", v, s.version)
		}
		s.shadow, s.version = block, v
	}
}

func (s *syncModel) finish(t *rapid.T, commit bool) {
	expect := s.drawVersion(t)
	var want []error
	if expect != s.version {
		want = append(want, ErrStaleVersion)
	}
	if s.shadow == 0 {
		want = append(want, ErrNoShadow)
	}
	var got, v uint64
	var err error
	wantBlock := s.local
	if commit {
		got, v, err = s.b.Commit(expect)
	} else {
		got, v, err = s.b.Abort(expect)
		wantBlock = s.shadow
	}
	syncExpectErr(t, "Commit/Abort", err, want)
	if err != nil {
		return
	}
	if got != wantBlock || v != s.version+1 {
		t.Fatalf("commit=%v returned %#x at %d; want %#x at %d", commit, got, v, wantBlock, s.version+1)
	}
	if commit {
		s.local = s.shadow
	}
	s.shadow, s.version = 0, v
}

// retire ends local's service: local becomes 0, version + 2.
func (s *syncModel) retire(t *rapid.T) {
	expect := s.drawVersion(t)
	var want []error
	if expect != s.version {
		want = append(want, ErrStaleVersion)
	}
	if s.shadow != 0 {
		want = append(want, ErrShadowPending)
	}
	if s.local == 0 {
		want = append(want, ErrNoBlock)
	}
	got, v, err := s.b.Retire(expect)
	syncExpectErr(t, "Retire", err, want)
	if err != nil {
		return
	}
	if got != s.local || v != s.version+2 {
		t.Fatalf("Retire returned %#x at %d; want %#x at %d", got, v, s.local, s.version+2)
	}
	s.local, s.version = 0, v
}

func (s *syncModel) check(t *rapid.T) {
	want := SyncState{Local: s.local, Shadow: s.shadow, Version: s.version, Pending: s.shadow != 0}
	if got := s.b.Snapshot(); got != want {
		t.Fatalf("Snapshot() = %+v, model %+v", got, want)
	}
	if local, v := s.b.Load(); local != s.local || v != s.version {
		t.Fatalf("Load() = %#x, %d; model %#x, %d", local, v, s.local, s.version)
	}
	if s.local != 0 && s.local == s.shadow {
		t.Fatalf("local and shadow are both %#x", s.local)
	}
}

// TestSyncBufferStateMachine drives random, often invalid, operations
// (BeginSync, Commit, Abort, Retire) against a sequential model.
func TestSyncBufferStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := &syncModel{}
		t.Repeat(map[string]func(*rapid.T){
			"begin":  s.begin,
			"commit": func(t *rapid.T) { s.finish(t, true) },
			"abort":  func(t *rapid.T) { s.finish(t, false) },
			"retire": s.retire,
			"":       s.check,
		})
	})
}

func BenchmarkSyncBufferLoad(b *testing.B) {
	var sb SyncBuffer
	if _, err := sb.Init(syncBlockA); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		local, v := sb.Load()
		sink += local + v
	}
	_ = sink
}

func BenchmarkSyncBufferLoadParallel(b *testing.B) {
	var sb SyncBuffer
	if _, err := sb.Init(syncBlockA); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var sink uint64
		for pb.Next() {
			local, v := sb.Load()
			sink += local + v
		}
		_ = sink
	})
}

// BenchmarkSyncBufferCommit measures one whole switch, Load + BeginSync +
// Commit, uncontended (Commit alone cannot be repeated without a
// BeginSync).
func BenchmarkSyncBufferCommit(b *testing.B) {
	var sb SyncBuffer
	block := uint64(syncBlockA)
	b.ReportAllocs()
	for b.Loop() {
		_, v := sb.Load()
		block += syncBlockA
		v, _ = sb.BeginSync(StateSyncing, v, block)
		if _, _, err := sb.Commit(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyncBufferCommitContended runs switches from every P at once;
// stale versions are retried and counted as cas_retries/op.
func BenchmarkSyncBufferCommitContended(b *testing.B) {
	var sb SyncBuffer
	var retries atomic.Uint64
	var ids atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		block := ids.Add(1) << 40
		for pb.Next() {
			block += syncBlockA
			for {
				_, v := sb.Load()
				v, err := sb.BeginSync(StateSyncing, v, block)
				if err == nil {
					if _, _, err = sb.Commit(v); err == nil {
						break
					}
				}
				retries.Add(1)
			}
		}
	})
	b.ReportMetric(float64(retries.Load())/float64(b.N), "cas_retries/op")
}

// tortureBlock is the block TestSyncBufferLoadTorture installs in its
// k-th switch; block -1 is the one Init installs.
func tortureBlock(k int64) uint64 { return uint64(k+2) << 21 }

// tortureLocal is the local block at version v of that test's history:
// Init leaves version 2, and switch k runs from 2+3k (claim 3+3k, publish
// 4+3k) to its commit at 5+3k.
func tortureLocal(v uint64) uint64 { return tortureBlock((int64(v)-2)/3 - 1) }

// TestSyncBufferLoadTorture runs one writer switching as fast as it can
// against one reader loading as fast as it can, for a bounded time, and
// checks every Load against the history, which is a function of the
// version. It catches a Load that pairs a version with a block another
// switch already reused (a Load without the seqlock re-check fails it
// within a few million switches).
func TestSyncBufferLoadTorture(t *testing.T) {
	budget, maxSwitches := 300*time.Millisecond, int64(20_000_000)
	if testing.Short() {
		budget = 50 * time.Millisecond
	}
	var b SyncBuffer
	v, err := b.Init(tortureBlock(-1))
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var loads, torn atomic.Uint64
	var rg sync.WaitGroup
	rg.Go(func() {
		for !stop.Load() {
			for range 1000 {
				if local, v := b.Load(); local != tortureLocal(v) {
					torn.Add(1)
				}
			}
			loads.Add(1000)
		}
	})
	deadline := time.Now().Add(budget)
	k := int64(0)
	for k < maxSwitches && time.Now().Before(deadline) {
		for range 1000 {
			pv, err := b.BeginSync(StateSyncing, v, tortureBlock(k))
			if err != nil {
				t.Fatal(err)
			}
			if _, v, err = b.Commit(pv); err != nil {
				t.Fatal(err)
			}
			k++
		}
	}
	stop.Store(true)
	rg.Wait()
	if torn.Load() != 0 {
		t.Fatalf("%d of %d loads paired a version with the wrong block", torn.Load(), loads.Load())
	}
	t.Logf("%d switches, %d loads", k, loads.Load())
}

// ExampleSyncBuffer runs one remote refill through the FSM of SPEC 2.1 and
// the SyncBuffer of SPEC 2.2, taking Facts.PendingSync from the buffer.
func ExampleSyncBuffer() {
	var fsm FSM
	var buf SyncBuffer
	const oldBlock, newBlock = 0x20_0000, 0x40_0000
	if _, err := buf.Init(oldBlock); err != nil {
		panic(err)
	}
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(fsm.Transition(StateAllocating, TriggerAllocRequest, Facts{PendingSync: buf.Pending(), FreeBlocks: 1}))
	must(fsm.Transition(StateSyncing, TriggerNeedsRemote, Facts{PendingSync: buf.Pending()}))

	_, v := buf.Load()
	v, err := buf.BeginSync(fsm.State(), v, newBlock)
	must(err)
	// ... the shadow is persisted and both nodes' Tier-1 views ack ...
	must(fsm.Transition(StateActive, TriggerQuorumAck, Facts{
		PendingSync: buf.Pending(), ShadowPersisted: true, ReplicasAcked: 2, Replicas: 2,
	}))
	retired, _, err := buf.Commit(v) // on ErrStaleVersion: reload, charge CostCASRetry, retry
	must(err)
	must(fsm.Transition(StateIdle, TriggerSyncDone, Facts{PendingSync: buf.Pending()}))

	local, version := buf.Load()
	fmt.Printf("local %#x (was %#x) at version %d, FSM %v\n", local, retired, version, fsm.State())
	for _, c := range fsm.Counts() {
		if c.N > 0 {
			fmt.Println(c.Name, c.N)
		}
	}
	// Output:
	// local 0x400000 (was 0x200000) at version 5, FSM IDLE
	// ACTIVE->IDLE 1
	// ALLOCATING->SYNCING 1
	// IDLE->ALLOCATING 1
	// SYNCING->ACTIVE 1
}
