package sbmp

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// specEdge is one row of the completed SPEC 2.1 table, restated here
// independently of fsm.go so that the tests check the table, not copy it.
type specEdge struct {
	from, to State
	trigger  Trigger
	// ok is the edge's contract, written from the doc of FSM.
	ok func(f Facts) bool
}

func fsmNoPending(f Facts) bool { return !f.PendingSync }

var specEdges = []specEdge{
	{StateIdle, StateAllocating, TriggerAllocRequest, func(f Facts) bool { return !f.PendingSync && f.FreeBlocks >= 1 }},
	{StateAllocating, StateSyncing, TriggerNeedsRemote, fsmNoPending},
	{StateSyncing, StateActive, TriggerQuorumAck, func(f Facts) bool {
		quorum := f.ReplicasAcked > f.Replicas/2
		return f.PendingSync && f.ShadowPersisted && f.ReplicasAcked == f.Replicas && f.Replicas > 0 && quorum
	}},
	{StateActive, StateMigrating, TriggerLoadDrift, func(Facts) bool { return true }},
	{StateActive, StateMigrating, TriggerFaultSignal, func(Facts) bool { return true }},
	{StateAllocating, StateIdle, TriggerServedLocal, fsmNoPending},
	{StateSyncing, StateIdle, TriggerSyncFailed, fsmNoPending},
	{StateActive, StateIdle, TriggerSyncDone, fsmNoPending},
	{StateMigrating, StateIdle, TriggerMigrationDone, fsmNoPending},
}

// findSpecEdge returns the spec edge for (from, to, trigger), if any.
func findSpecEdge(from, to State, trigger Trigger) (specEdge, bool) {
	for _, e := range specEdges {
		if e.from == from && e.to == to && e.trigger == trigger {
			return e, true
		}
	}
	return specEdge{}, false
}

// fsmGoodFacts satisfies the contract of every edge out of from into to.
func fsmGoodFacts(from, to State) Facts {
	if from == StateSyncing && to == StateActive {
		return Facts{PendingSync: true, ShadowPersisted: true, ReplicasAcked: 2, Replicas: 2, FreeBlocks: 1}
	}
	return Facts{FreeBlocks: 1}
}

// fsmAt returns an FSM forced into state s (in-package tests only).
func fsmAt(s State) *FSM { return &FSM{state: s} }

func TestFSMStateAndTriggerNames(t *testing.T) {
	want := []string{"IDLE", "ALLOCATING", "SYNCING", "ACTIVE", "MIGRATING"}
	for s := range NumStates {
		if got := s.String(); got != want[s] {
			t.Errorf("State(%d).String() = %q, want %q", s, got, want[s])
		}
	}
	if got := NumStates.String(); got != "State(5)" {
		t.Errorf("out-of-range state prints %q", got)
	}
	seen := map[string]bool{}
	for tr := range NumTriggers {
		name := tr.String()
		if name == "" || strings.HasPrefix(name, "Trigger(") || seen[name] {
			t.Errorf("trigger %d has bad or duplicate name %q", tr, name)
		}
		seen[name] = true
	}
	if got := TransitionName(StateIdle, StateAllocating); got != "IDLE->ALLOCATING" {
		t.Errorf("TransitionName = %q", got)
	}
}

// TestFSMLegalityTable tries every (from, to, trigger), with facts that
// satisfy the contract and with facts that break every contract, and
// checks the outcome against specEdges.
func TestFSMLegalityTable(t *testing.T) {
	bad := Facts{PendingSync: true, FreeBlocks: 0, Replicas: 3, ReplicasAcked: 1}
	for from := range NumStates {
		for to := range NumStates + 1 { // one out-of-range target
			for tr := range NumTriggers + 1 { // one out-of-range trigger
				e, legal := findSpecEdge(from, to, tr)
				if got := Legal(from, to, tr); got != legal {
					t.Fatalf("Legal(%v, %v, %v) = %v, want %v", from, to, tr, got, legal)
				}
				for _, f := range []Facts{fsmGoodFacts(from, to), bad} {
					m := fsmAt(from)
					err := m.Transition(to, tr, f)
					var want State
					switch {
					case !legal:
						var ie *IllegalTransitionError
						if !errors.As(err, &ie) || !errors.Is(err, ErrIllegalTransition) {
							t.Fatalf("%v->%v on %v: err = %v, want IllegalTransitionError", from, to, tr, err)
						}
						if ie.From != from || ie.To != to || ie.Trigger != tr {
							t.Fatalf("error fields %+v, want %v %v %v", ie, from, to, tr)
						}
						want = from
					case e.ok(f):
						if err != nil {
							t.Fatalf("%v->%v on %v with %+v: %v", from, to, tr, f, err)
						}
						want = to
					default:
						if !errors.Is(err, ErrContract) {
							t.Fatalf("%v->%v on %v with %+v: err = %v, want contract error", from, to, tr, f, err)
						}
						want = from
					}
					if m.State() != want {
						t.Fatalf("%v->%v on %v: state %v, want %v", from, to, tr, m.State(), want)
					}
				}
			}
		}
	}
}

// TestFSMTableShape checks the table's own properties: each trigger is
// legal on exactly one edge, no self-loops, and the four seed transitions
// plus exactly four added ones.
func TestFSMTableShape(t *testing.T) {
	edges := 0
	for tr := range NumTriggers {
		n := 0
		for from := range NumStates {
			for to := range NumStates {
				if Legal(from, to, tr) {
					n++
				}
			}
		}
		if n != 1 {
			t.Errorf("trigger %v is legal on %d edges, want 1", tr, n)
		}
	}
	for from := range NumStates {
		if LegalTriggers(from, from) != 0 {
			t.Errorf("self-loop on %v", from)
		}
		for to := range NumStates {
			if LegalTriggers(from, to) != 0 {
				edges++
			}
		}
	}
	if edges != 8 {
		t.Errorf("table has %d edges, want 8 (4 from the seed, 4 added)", edges)
	}
}

// fsmReach returns the states reachable from start, following edges forward
// or, if reverse, backward.
func fsmReach(start State, reverse bool) [NumStates]bool {
	var seen [NumStates]bool
	seen[start] = true
	queue := []State{start}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for o := range NumStates {
			from, to := s, o
			if reverse {
				from, to = o, s
			}
			if LegalTriggers(from, to) != 0 && !seen[o] {
				seen[o] = true
				queue = append(queue, o)
			}
		}
	}
	return seen
}

// TestFSMReachability: every state is reachable from IDLE, and every state
// can return to IDLE (so every state is leavable), searched over the table.
func TestFSMReachability(t *testing.T) {
	fwd, back := fsmReach(StateIdle, false), fsmReach(StateIdle, true)
	for s := range NumStates {
		if !fwd[s] {
			t.Errorf("%v is not reachable from IDLE", s)
		}
		if !back[s] {
			t.Errorf("%v cannot return to IDLE", s)
		}
	}
}

func TestFSMContracts(t *testing.T) {
	acked := Facts{PendingSync: true, ShadowPersisted: true, Replicas: 3, ReplicasAcked: 3}
	with := func(f Facts, edit func(*Facts)) Facts { edit(&f); return f }
	tests := []struct {
		name    string
		from    State
		to      State
		trigger Trigger
		facts   Facts
		want    string // "" for success
	}{
		{"alloc ok", StateIdle, StateAllocating, TriggerAllocRequest, Facts{FreeBlocks: 1}, ""},
		{"alloc with pending sync", StateIdle, StateAllocating, TriggerAllocRequest, Facts{PendingSync: true, FreeBlocks: 1}, ContractNoPendingSync},
		{"alloc with no local block", StateIdle, StateAllocating, TriggerAllocRequest, Facts{}, ContractFreeBlocks},
		{"alloc with negative local blocks", StateIdle, StateAllocating, TriggerAllocRequest, Facts{FreeBlocks: -1}, ContractFreeBlocks},
		{"needs remote with sync in flight", StateAllocating, StateSyncing, TriggerNeedsRemote, Facts{PendingSync: true}, ContractNoPendingSync},
		{"quorum ok", StateSyncing, StateActive, TriggerQuorumAck, acked, ""},
		{"quorum without shadow", StateSyncing, StateActive, TriggerQuorumAck, with(acked, func(f *Facts) { f.PendingSync = false }), ContractShadowPending},
		{"quorum not persisted", StateSyncing, StateActive, TriggerQuorumAck, with(acked, func(f *Facts) { f.ShadowPersisted = false }), ContractShadowPersisted},
		{"quorum one missing ack", StateSyncing, StateActive, TriggerQuorumAck, with(acked, func(f *Facts) { f.ReplicasAcked = 2 }), ContractAllAcked},
		{"quorum more acks than replicas", StateSyncing, StateActive, TriggerQuorumAck, with(acked, func(f *Facts) { f.ReplicasAcked = 4 }), ContractAllAcked},
		{"quorum of no replicas", StateSyncing, StateActive, TriggerQuorumAck, with(acked, func(f *Facts) { f.Replicas, f.ReplicasAcked = 0, 0 }), ContractQuorum},
		{"sync failed, shadow not aborted", StateSyncing, StateIdle, TriggerSyncFailed, Facts{PendingSync: true}, ContractNoPendingSync},
		{"sync failed, aborted", StateSyncing, StateIdle, TriggerSyncFailed, Facts{}, ""},
		{"sync done, not committed", StateActive, StateIdle, TriggerSyncDone, Facts{PendingSync: true}, ContractNoPendingSync},
		{"drift before commit", StateActive, StateMigrating, TriggerLoadDrift, Facts{PendingSync: true}, ""},
		{"fault", StateActive, StateMigrating, TriggerFaultSignal, Facts{}, ""},
		{"migration left shadow", StateMigrating, StateIdle, TriggerMigrationDone, Facts{PendingSync: true}, ContractNoPendingSync},
		{"served local with shadow", StateAllocating, StateIdle, TriggerServedLocal, Facts{PendingSync: true}, ContractNoPendingSync},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := fsmAt(tc.from)
			err := m.Transition(tc.to, tc.trigger, tc.facts)
			if tc.want == "" {
				if err != nil || m.State() != tc.to {
					t.Fatalf("err = %v, state %v; want success to %v", err, m.State(), tc.to)
				}
				return
			}
			var ce *ContractError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ContractError", err)
			}
			if ce.Contract != tc.want || ce.Trigger != tc.trigger || ce.Transition != TransitionName(tc.from, tc.to) {
				t.Fatalf("got %+v, want contract %q on %v", ce, tc.want, TransitionName(tc.from, tc.to))
			}
			if m.State() != tc.from || m.Transitions() != 0 {
				t.Fatalf("rejected transition changed the FSM: %v, %d transitions", m.State(), m.Transitions())
			}
			if il, co := m.Rejected(); il != 0 || co != 1 {
				t.Fatalf("Rejected() = %d, %d; want 0, 1", il, co)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("message %q does not name the contract", err)
			}
		})
	}
}

// runFSMSteps drives m through the given (to, trigger) steps with good facts.
func runFSMSteps(t *testing.T, m *FSM, steps ...fsmStep) {
	t.Helper()
	for _, s := range steps {
		if err := m.Transition(s.to, s.tr, fsmGoodFacts(m.State(), s.to)); err != nil {
			t.Fatal(err)
		}
	}
}

// fsmStep is one transition of a scripted path.
type fsmStep struct {
	to State
	tr Trigger
}

var (
	fsmLocalRefill = []fsmStep{{StateAllocating, TriggerAllocRequest}, {StateIdle, TriggerServedLocal}}
	fsmRemoteSync  = []fsmStep{{StateAllocating, TriggerAllocRequest}, {StateSyncing, TriggerNeedsRemote}, {StateActive, TriggerQuorumAck}, {StateIdle, TriggerSyncDone}}
	fsmFaulted     = []fsmStep{{StateAllocating, TriggerAllocRequest}, {StateSyncing, TriggerNeedsRemote}, {StateActive, TriggerQuorumAck}, {StateMigrating, TriggerFaultSignal}, {StateIdle, TriggerMigrationDone}}
)

func TestFSMCounts(t *testing.T) {
	var a, b FSM
	runFSMSteps(t, &a, fsmLocalRefill...)
	runFSMSteps(t, &a, fsmLocalRefill...)
	runFSMSteps(t, &a, fsmRemoteSync...)
	runFSMSteps(t, &b, fsmFaulted...)
	if err := a.Transition(StateActive, TriggerQuorumAck, Facts{}); err == nil {
		t.Fatal("IDLE->ACTIVE accepted")
	}
	if got := a.Count(StateIdle, StateAllocating); got != 3 {
		t.Errorf("IDLE->ALLOCATING = %d, want 3", got)
	}
	if got := a.Transitions(); got != 8 {
		t.Errorf("Transitions() = %d, want 8", got)
	}
	if il, co := a.Rejected(); il != 1 || co != 0 {
		t.Errorf("Rejected() = %d, %d; want 1, 0", il, co)
	}

	counts := a.Counts()
	if len(counts) != 8 || !slices.IsSortedFunc(counts, func(x, y TransitionCount) int { return strings.Compare(x.Name, y.Name) }) {
		t.Fatalf("Counts() not the 8 legal edges sorted by name: %v", counts)
	}
	for _, c := range counts {
		if c.N != a.Count(c.From, c.To) || c.Name != TransitionName(c.From, c.To) {
			t.Errorf("Counts() entry %+v disagrees with Count", c)
		}
	}

	sum := map[string]uint64{}
	a.AddCounts(sum)
	b.AddCounts(sum)
	want := map[string]uint64{
		"IDLE->ALLOCATING": 4, "ALLOCATING->IDLE": 2, "ALLOCATING->SYNCING": 2,
		"SYNCING->ACTIVE": 2, "SYNCING->IDLE": 0, "ACTIVE->IDLE": 1,
		"ACTIVE->MIGRATING": 1, "MIGRATING->IDLE": 1,
	}
	if len(sum) != len(want) {
		t.Fatalf("AddCounts keys %v, want %v", sum, want)
	}
	for k, v := range want {
		if sum[k] != v {
			t.Errorf("%s = %d, want %d", k, sum[k], v)
		}
	}
}

func TestFSMErrorMessages(t *testing.T) {
	var m FSM
	err := m.Transition(StateActive, TriggerQuorumAck, Facts{})
	if got, want := err.Error(), "sbmp: illegal FSM transition IDLE->ACTIVE on quorum_ack"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	err = m.Transition(StateAllocating, TriggerAllocRequest, Facts{})
	if got, want := err.Error(), "sbmp: FSM transition IDLE->ALLOCATING on alloc_req violates contract: free blocks >= 1"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if errors.Is(err, ErrIllegalTransition) {
		t.Error("a contract error matches ErrIllegalTransition")
	}
}

func TestFSMTransitionDoesNotAllocate(t *testing.T) {
	var m FSM
	allocs := testing.AllocsPerRun(1000, func() {
		for _, s := range fsmFaulted {
			if err := m.Transition(s.to, s.tr, fsmGoodFacts(m.State(), s.to)); err != nil {
				panic(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Transition allocates %v times per cycle", allocs)
	}
}

// fsmModel is the rapid test's reference: the state and the counts that
// the FSM should have, computed from specEdges.
type fsmModel struct {
	m                 FSM
	state             State
	counts            map[[2]State]uint64
	calls             uint64
	illegal, violated uint64
}

func (s *fsmModel) drawFacts(t *rapid.T, from, to State) Facts {
	if rapid.Bool().Draw(t, "fsmGoodFacts") {
		return fsmGoodFacts(from, to)
	}
	return Facts{
		PendingSync:     rapid.Bool().Draw(t, "pendingSync"),
		FreeBlocks:      rapid.IntRange(-1, 3).Draw(t, "freeBlocks"),
		ShadowPersisted: rapid.Bool().Draw(t, "shadowPersisted"),
		ReplicasAcked:   rapid.IntRange(0, 4).Draw(t, "replicasAcked"),
		Replicas:        rapid.IntRange(0, 4).Draw(t, "replicas"),
	}
}

func (s *fsmModel) transition(t *rapid.T) {
	tr := Trigger(rapid.IntRange(0, int(NumTriggers)).Draw(t, "trigger"))
	to := State(rapid.IntRange(0, int(NumStates)).Draw(t, "to"))
	if rapid.IntRange(0, 3).Draw(t, "aim") > 0 {
		// Usually aim at the trigger's own edge, which is legal only
		// from that edge's source state.
		for _, e := range specEdges {
			if e.trigger == tr {
				to = e.to
			}
		}
	}
	from := s.state
	f := s.drawFacts(t, from, to)
	err := s.m.Transition(to, tr, f)
	s.calls++
	e, legal := findSpecEdge(from, to, tr)
	switch {
	case !legal:
		s.illegal++
		if !errors.Is(err, ErrIllegalTransition) {
			t.Fatalf("%v->%v on %v: err = %v, want illegal", from, to, tr, err)
		}
	case !e.ok(f):
		s.violated++
		if !errors.Is(err, ErrContract) {
			t.Fatalf("%v->%v on %v with %+v: err = %v, want contract error", from, to, tr, f, err)
		}
	default:
		if err != nil {
			t.Fatalf("%v->%v on %v with %+v: %v", from, to, tr, f, err)
		}
		s.state = to
		s.counts[[2]State{from, to}]++
	}
}

func (s *fsmModel) check(t *rapid.T) {
	if s.m.State() != s.state {
		t.Fatalf("state %v, model %v", s.m.State(), s.state)
	}
	var sum uint64
	for from := range NumStates {
		for to := range NumStates {
			n := s.m.Count(from, to)
			if n != s.counts[[2]State{from, to}] {
				t.Fatalf("%s = %d, model %d", TransitionName(from, to), n, s.counts[[2]State{from, to}])
			}
			if n != 0 && LegalTriggers(from, to) == 0 {
				t.Fatalf("illegal transition %s counted", TransitionName(from, to))
			}
			sum += n
		}
	}
	il, co := s.m.Rejected()
	if il != s.illegal || co != s.violated || sum != s.m.Transitions() || sum+il+co != s.calls {
		t.Fatalf("counts: %d ok + %d illegal + %d contract != %d calls (model %d illegal, %d contract)",
			sum, il, co, s.calls, s.illegal, s.violated)
	}
}

// TestFSMStateMachine drives random triggers with random facts and checks
// that the state changes only on legal transitions whose contract holds,
// and that the counts add up.
func TestFSMStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := &fsmModel{counts: map[[2]State]uint64{}}
		t.Repeat(map[string]func(*rapid.T){
			"transition": s.transition,
			"":           s.check,
		})
	})
}

func BenchmarkFSMTransition(b *testing.B) {
	var m FSM
	ok := fsmGoodFacts(StateIdle, StateAllocating)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Transition(StateAllocating, TriggerAllocRequest, ok)
		_ = m.Transition(StateIdle, TriggerServedLocal, ok)
	}
}

// TestFSMOutOfRange: a state or trigger past the last is named by number,
// is in no set, has no legal trigger, and has no count.
func TestFSMOutOfRange(t *testing.T) {
	if got := NumTriggers.String(); got != "Trigger("+strconv.Itoa(int(NumTriggers))+")" {
		t.Errorf("out-of-range trigger prints %q", got)
	}
	if TriggerSet(1<<16 - 1).Has(NumTriggers) {
		t.Error("a full set has the trigger past the last")
	}
	if LegalTriggers(NumStates, StateIdle) != 0 || LegalTriggers(StateIdle, NumStates) != 0 {
		t.Error("a state past the last has legal triggers")
	}
	if got := TransitionName(NumStates, StateIdle); got != "State(5)->IDLE" {
		t.Errorf("TransitionName(NumStates, IDLE) = %q", got)
	}
	if got := TransitionName(StateIdle, NumStates); got != "IDLE->State(5)" {
		t.Errorf("TransitionName(IDLE, NumStates) = %q", got)
	}
	var m FSM
	if m.Count(NumStates, StateIdle) != 0 || m.Count(StateIdle, NumStates) != 0 {
		t.Error("a state past the last has a count")
	}
}
