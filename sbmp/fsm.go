package sbmp

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
)

// This file is the allocator FSM of SPEC 2.1; the completed transition
// table and the reasons for each added transition are in the doc of FSM.

// State is a state of the allocator FSM (SPEC 2.1).
type State uint8

// The FSM states. The zero State is StateIdle, so a zero FSM is idle.
const (
	// StateIdle: the CPU serves from its Tier-0 cache, from slabs of its
	// home node or from none the FSM follows; no refill is under way, no
	// sync is pending, and its SyncBuffer's local is 0.
	StateIdle State = iota
	// StateAllocating: a Tier-0 refill is taking slots from Tier-1, as
	// the refill policy's plan says (the home node first, usually).
	StateAllocating
	// StateSyncing: the refill took slots from a remote node; the
	// SyncBuffer's shadow (that node's slab) is being persisted there and
	// acknowledged by the replicas (the per-node Tier-1 views).
	StateSyncing
	// StateActive: the quorum confirmed and the SyncBuffer switch (local
	// = shadow) committed; the CPU stays ACTIVE, between operations too,
	// while the switched-to block serves it.
	StateActive
	// StateMigrating: load drift or a fault moved the CPU off the block it
	// switched to; the per-CPU flush of SPEC 2.6 runs here, on this CPU
	// alone.
	StateMigrating
	// NumStates is the number of states; not a state.
	NumStates
)

var stateNames = [NumStates]string{"IDLE", "ALLOCATING", "SYNCING", "ACTIVE", "MIGRATING"}

// String returns the upper-case name SPEC 2.1 uses ("IDLE", ...).
func (s State) String() string {
	if s < NumStates {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Trigger is the event that asks for a transition.
type Trigger uint8

// The triggers. Each is legal on exactly one edge of the table.
const (
	// TriggerAllocRequest: an allocation request reached an idle CPU and
	// Tier-1 has a free block the refill may take (IDLE -> ALLOCATING;
	// seed "alloc_req").
	TriggerAllocRequest Trigger = iota
	// TriggerNeedsRemote: the pre-commit check found that the refill needs
	// a remote node (ALLOCATING -> SYNCING; seed "needs_remote").
	TriggerNeedsRemote
	// TriggerQuorumAck: every replica acknowledged the persisted shadow
	// and the quorum confirmed (SYNCING -> ACTIVE; seed "quorum_ack").
	TriggerQuorumAck
	// TriggerLoadDrift: the CPU's traffic with Tier-1 went mostly to
	// other nodes over a whole drift window (ACTIVE -> MIGRATING; seed
	// "load_drift"; FSMConfig).
	TriggerLoadDrift
	// TriggerFaultSignal: the node of the switched-to block went offline,
	// or its link to the CPU's node is slower than a sync tolerates
	// (ACTIVE -> MIGRATING).
	TriggerFaultSignal
	// TriggerServedLocal: the refill was served from the local node
	// (ALLOCATING -> IDLE; added).
	TriggerServedLocal
	// TriggerSyncFailed: the shadow was not persisted or a replica did
	// not acknowledge in time, and the shadow was aborted (SYNCING ->
	// IDLE; added).
	TriggerSyncFailed
	// TriggerSyncDone: the switched-to block stopped serving the CPU
	// (ACTIVE -> IDLE; added).
	TriggerSyncDone
	// TriggerMigrationDone: migration or degrade finished (MIGRATING ->
	// IDLE; added).
	TriggerMigrationDone
	// NumTriggers is the number of triggers; not a trigger.
	NumTriggers
)

var triggerNames = [NumTriggers]string{
	"alloc_req", "needs_remote", "quorum_ack", "load_drift", "fault_signal",
	"served_local", "sync_failed", "sync_done", "migration_done",
}

// String returns the trigger's snake_case name, as the seed writes them.
func (t Trigger) String() string {
	if t < NumTriggers {
		return triggerNames[t]
	}
	return "Trigger(" + strconv.Itoa(int(t)) + ")"
}

// TriggerSet is a set of triggers, one bit per Trigger.
type TriggerSet uint16

// Has reports whether t is in the set.
func (s TriggerSet) Has(t Trigger) bool { return t < NumTriggers && s&(1<<t) != 0 }

// legality is the transition table of SPEC 2.1 as data: legality[from][to]
// is the set of triggers that may move from to to. It is never written.
var legality = [NumStates][NumStates]TriggerSet{
	StateIdle: {
		StateAllocating: 1 << TriggerAllocRequest,
	},
	StateAllocating: {
		StateSyncing: 1 << TriggerNeedsRemote,
		StateIdle:    1 << TriggerServedLocal,
	},
	StateSyncing: {
		StateActive: 1 << TriggerQuorumAck,
		StateIdle:   1 << TriggerSyncFailed,
	},
	StateActive: {
		StateMigrating: 1<<TriggerLoadDrift | 1<<TriggerFaultSignal,
		StateIdle:      1 << TriggerSyncDone,
	},
	StateMigrating: {
		StateIdle: 1 << TriggerMigrationDone,
	},
}

// LegalTriggers returns the triggers that may move the FSM from from to to;
// the empty set if the transition is illegal or a state is out of range.
func LegalTriggers(from, to State) TriggerSet {
	if from >= NumStates || to >= NumStates {
		return 0
	}
	return legality[from][to]
}

// Legal reports whether trigger may move the FSM from from to to.
func Legal(from, to State, trigger Trigger) bool {
	return LegalTriggers(from, to).Has(trigger)
}

// transitionNames[from][to] is "FROM->TO", built once so that errors and
// counters name transitions without allocating. It is never written.
var transitionNames = func() (n [NumStates][NumStates]string) {
	for from := range NumStates {
		for to := range NumStates {
			n[from][to] = stateNames[from] + "->" + stateNames[to]
		}
	}
	return n
}()

// TransitionName returns "FROM->TO", the key of summary.json's
// fsm_transitions.
func TransitionName(from, to State) string {
	if from < NumStates && to < NumStates {
		return transitionNames[from][to]
	}
	return from.String() + "->" + to.String()
}

// Facts is what the caller knows when it asks for a transition; the FSM
// checks the transition's contract against it (SPEC 2.1). The FSM keeps no
// copy.
type Facts struct {
	// PendingSync: a sync is in flight on this CPU, i.e. its SyncBuffer
	// holds a shadow ([SyncBuffer.Pending]).
	PendingSync bool
	// FreeBlocks: free blocks in Tier-1 that the refill may take: free
	// slabs, and partly used slabs of the refill's class, on the nodes of
	// the refill policy's plan (the seed's "local free blocks", read as
	// SBMP's own pool against Tier-2: see the doc of FSM).
	FreeBlocks int
	// ShadowPersisted: the shadow was persisted (the seed's NVRAM; in the
	// model it costs time and can fail under fault injection).
	ShadowPersisted bool
	// ReplicasAcked: replicas (per-node Tier-1 views) that acknowledged
	// the shadow.
	ReplicasAcked int
	// Replicas: replicas taking part in the sync.
	Replicas int
}

// The contracts a transition can violate, as ContractError.Contract
// reports them.
const (
	ContractNoPendingSync   = "no pending sync"
	ContractFreeBlocks      = "free blocks >= 1"
	ContractShadowPending   = "a shadow is pending"
	ContractShadowPersisted = "shadow persisted"
	ContractAllAcked        = "all replicas acked"
	ContractQuorum          = "quorum of replicas acked"
)

// violatedContract returns the first contract of the transition from ->
// to that f breaks, or "" if f satisfies all of them. The transition must
// be legal.
func violatedContract(from, to State, f *Facts) string {
	switch {
	case to == StateIdle, from == StateAllocating && to == StateSyncing:
		// Every entry to IDLE restores "no pending sync"; a CPU starts at
		// most one sync, and its shadow is written only in SYNCING.
		if f.PendingSync {
			return ContractNoPendingSync
		}
	case from == StateIdle: // -> ALLOCATING
		if f.PendingSync {
			return ContractNoPendingSync
		}
		if f.FreeBlocks < 1 {
			return ContractFreeBlocks
		}
	case from == StateSyncing: // -> ACTIVE
		return syncContract(f)
	}
	// ACTIVE -> MIGRATING has no contract: drift or a fault may come
	// before or after the switch commits, and MIGRATING -> IDLE asserts
	// that migration resolved it.
	return ""
}

// syncContract checks SYNCING -> ACTIVE: there is a shadow to switch to,
// it is persisted, every replica acknowledged, and they form a quorum
// (which also rules out a sync with no replicas).
func syncContract(f *Facts) string {
	switch {
	case !f.PendingSync:
		return ContractShadowPending
	case !f.ShadowPersisted:
		return ContractShadowPersisted
	case f.ReplicasAcked != f.Replicas:
		return ContractAllAcked
	case 2*f.ReplicasAcked <= f.Replicas:
		return ContractQuorum
	}
	return ""
}

// ErrIllegalTransition is matched by errors.Is for every
// *IllegalTransitionError.
var ErrIllegalTransition = errors.New("sbmp: illegal FSM transition")

// ErrContract is matched by errors.Is for every *ContractError.
var ErrContract = errors.New("sbmp: FSM transition contract violated")

// IllegalTransitionError reports a (from, to, trigger) that the table of
// SPEC 2.1 does not allow. The FSM's state is unchanged.
type IllegalTransitionError struct {
	From, To State
	Trigger  Trigger
}

func (e *IllegalTransitionError) Error() string {
	return "sbmp: illegal FSM transition " + TransitionName(e.From, e.To) + " on " + e.Trigger.String()
}

// Unwrap makes errors.Is(err, ErrIllegalTransition) hold.
func (e *IllegalTransitionError) Unwrap() error { return ErrIllegalTransition }

// ContractError reports a legal transition whose contract did not hold.
// The FSM's state is unchanged.
type ContractError struct {
	Transition string // "FROM->TO"
	Trigger    Trigger
	Contract   string // one of the Contract* constants
}

func (e *ContractError) Error() string {
	return "sbmp: FSM transition " + e.Transition + " on " + e.Trigger.String() + " violates contract: " + e.Contract
}

// Unwrap makes errors.Is(err, ErrContract) hold.
func (e *ContractError) Unwrap() error { return ErrContract }

// FSM is one CPU's allocator state machine (SPEC 2.1): it describes that
// CPU's allocator across a Tier-0 refill and, when the refill switched to
// a remote block, for as long as that block serves. The zero FSM is in
// StateIdle with no transitions counted. It changes only through
// Transition. It is not safe for concurrent use: the CPU that owns it (or
// whoever holds that CPU's lock) drives it.
//
// The seed gives four transitions and leaves the table partial: nothing
// leaves MIGRATING and nothing returns to IDLE. We complete it with one
// added exit for each state that has an outcome the seed's edges cannot
// express, and every added exit goes to IDLE:
//
//	from        to          trigger(s)                 contract
//	IDLE        ALLOCATING  alloc_req                  no pending sync; free blocks >= 1 (seed)
//	ALLOCATING  SYNCING     needs_remote               no pending sync (seed edge, our contract)
//	SYNCING     ACTIVE      quorum_ack                 a shadow is pending; shadow persisted;
//	                                                   all replicas acked; quorum (seed)
//	ACTIVE      MIGRATING   load_drift, fault_signal   none (seed)
//	ALLOCATING  IDLE        served_local               no pending sync (added)
//	SYNCING     IDLE        sync_failed                no pending sync: shadow aborted (added)
//	ACTIVE      IDLE        sync_done                  no pending sync: switch committed (added)
//	MIGRATING   IDLE        migration_done             no pending sync: switch resolved (added)
//
// Why each added transition, and why no other:
//
//   - ALLOCATING -> IDLE on served_local: the common outcome of a refill is
//     that the home node served it. Without this edge every allocation
//     would have to sync with a remote node to get back to IDLE. Contract:
//     no pending sync, which holds trivially (the shadow is written only in
//     SYNCING) and is asserted as the pair of IDLE's exit contract.
//   - SYNCING -> IDLE on sync_failed: persisting the shadow can fail and
//     replicas can time out under fault injection (SPEC 2.1, "Our
//     reading"); SYNCING -> ACTIVE is then forbidden by its contract, so a
//     failed sync needs an exit. It goes to IDLE rather than ALLOCATING:
//     the retry is then a fresh alloc_req that re-checks IDLE's contract
//     (no pending sync, free blocks), there is no ALLOCATING <-> SYNCING
//     loop inside the FSM to bound, and how often to retry before
//     degrading to Tier-2 stays with the degrade policy. Contract: no
//     pending sync, i.e. the caller aborted the shadow
//     ([SyncBuffer.Abort]) before reporting the failure.
//   - ACTIVE -> IDLE on sync_done: the switched-to block stopped serving.
//     Without this edge every successful sync would force a migration.
//     Contract: no pending sync ([SyncBuffer.Commit] cleared the shadow).
//   - MIGRATING -> IDLE on migration_done: MIGRATING's only exit; the
//     migration is done. Contract: no pending sync: migration must leave
//     no switch half made.
//
// Every transition into IDLE asserts "no pending sync", so the contract of
// the only edge out of IDLE is an invariant of IDLE, checked on entry and
// again on exit. Each trigger is legal on exactly one edge, so a trigger
// names its transition. A fault during ALLOCATING or SYNCING needs no edge
// of its own: the refill finishes at home (served_local) or the sync fails
// (sync_failed). Every other (from, to, trigger) is rejected with an
// *IllegalTransitionError.
//
// How the allocator drives it (allocator.go's refill, fsmdrive.go):
//
// IDLE -> ALLOCATING. The seed's contract is "local free blocks >= 1"
// (本地空闲块 ≥ 1; its prose says "local resources sufficient"). We read
// "local" as SBMP's own pool, Tier-1 on every node, against Tier-2, the
// system allocator the seed keeps for when "Tier-0 and Tier-1 are both
// exhausted" (SPEC 1.2), not as the CPU's home node alone. The fact is
// Facts.FreeBlocks: free slabs and partly used slabs of the class on the
// nodes the refill policy's plan may take from. Why: read as "home node
// only", every refill of a CPU whose home node is empty was refused and
// ran outside the FSM, and those are exactly the refills that cross
// nodes, so SYNCING, the state that exists for them, never occurred
// (seed 1 of oom-crisis: 15,098 remote refills, no SYNCING, 17,185
// refusals). Read our way, a home-empty refill that finds blocks on
// another node enters the FSM and goes on to SYNCING; the contract still
// means something: a refill that finds no free block on any node of its
// plan must grow Tier-1 from Tier-2 (or degrade), stays IDLE and is
// counted in Stats.FSMRefused. We did not add IDLE -> SYNCING for a
// home-empty refill: it would give needs_remote two edges, and the seed's
// own path to SYNCING runs through ALLOCATING.
//
// ALLOCATING -> SYNCING -> ACTIVE or IDLE. A refill that took slots from a
// remote node needs a sync: the shadow is the remote slab of the slot the
// CPU will hand out first. Persisting it is a CostSync write of
// SyncRecordBytes to that node; each replica (the Tier-1 view of each
// node whose memory is online, NodeHealth) acknowledges with a CostSync
// message, in parallel. A message slower than FSMConfig.SyncTimeoutFactor
// times its idle price (measured when the allocator is made) times out,
// and a shadow cannot be persisted on an offline node; the CPU waits the
// timeout. SYNCING -> ACTIVE is then refused by its contract (counted in
// FSMRefused), the shadow is aborted, SYNCING -> IDLE (sync_failed), and
// the refill's slots from remote nodes go back to their slabs: the switch
// did not happen, so the CPU may not serve from them. If that leaves the
// refill empty, it retries at once from its home node alone, as a fresh
// alloc_req (IDLE -> ALLOCATING, contract re-checked; it cannot need a
// sync); if that finds nothing too, the allocation degrades and the
// degrade policy decides. (Slots the steal-remote degrade policy takes
// from other nodes are taken outside the FSM: degrade is the path for
// when refills failed, not a refill.)
//
// ACTIVE lasts while the switched block serves: the CPU stays ACTIVE
// between operations while its cache of the refill's class still holds a
// slot of the block, and returns to IDLE (sync_done) when it holds none,
// or at its next refill, whichever comes first (the FSM follows one
// refill at a time; the block's remaining slots are then handed out as
// any slab's). The fast path does not look at the FSM (that would cost
// every allocation a compare), so the end is observed at the CPU's next
// refill and at every Tick: between operations a CPU may still be ACTIVE
// after its fast path handed out the block's last slot, until the next
// observation. Leaving ACTIVE retires the SyncBuffer's local
// ([SyncBuffer.Retire]), so local is set exactly while the CPU is ACTIVE.
//
// ACTIVE -> MIGRATING -> IDLE. At the same observations, an ACTIVE CPU
// migrates instead: on fault_signal when the switched block's node is
// offline or the link between it and the CPU's node is slower than a sync
// tolerates (the timeout above); on load_drift when, over the last whole
// FSMConfig.DriftWindowNs, more than DriftRemoteShare of the CPU's traffic
// with Tier-1 (slots its refills took, and slots it freed that belong to
// other nodes) was with other nodes' memory, and there was at least
// DriftMinSlots of it. Remote refills measure sustained imbalance between
// nodes (the home node cannot feed its CPUs); remote frees measure a
// thread that migrated across nodes (it frees, on its new node, what it
// allocated on the old one). Migrating runs the per-CPU flush of SPEC 2.6
// for this CPU alone: its cached slots go back to their slabs, so it
// stops serving from the block it drifted or faulted away from and its
// next refill starts afresh. The flush's cost is the CPU's: paid by the
// refill that found it (at a refill), or owed and paid by its next refill
// (at a Tick; the flush emptied its caches, so its next allocation of a
// slot class refills). The allocator does not enter degrade for it:
// degrade is for exhaustion. MIGRATING never lasts between operations.
//
// CheckInvariants (checkFSMs) asserts these contracts between operations.
type FSM struct {
	state  State
	counts [NumStates][NumStates]uint64

	illegal  uint64
	violated uint64
}

// State returns the current state.
func (m *FSM) State() State { return m.state }

// Transition moves the FSM to to on trigger, after checking the legality
// table and then the transition's contract against f. On error the state
// is unchanged and the error is an *IllegalTransitionError or a
// *ContractError. A successful transition does not allocate.
func (m *FSM) Transition(to State, trigger Trigger, f Facts) error {
	from := m.state
	if !Legal(from, to, trigger) {
		m.illegal++
		return &IllegalTransitionError{From: from, To: to, Trigger: trigger}
	}
	if c := violatedContract(from, to, &f); c != "" {
		m.violated++
		return &ContractError{Transition: transitionNames[from][to], Trigger: trigger, Contract: c}
	}
	m.state = to
	m.counts[from][to]++
	return nil
}

// Count returns how many times the FSM moved from from to to.
func (m *FSM) Count(from, to State) uint64 {
	if from >= NumStates || to >= NumStates {
		return 0
	}
	return m.counts[from][to]
}

// Transitions returns the number of successful transitions.
func (m *FSM) Transitions() uint64 {
	var n uint64
	for from := range NumStates {
		for to := range NumStates {
			n += m.counts[from][to]
		}
	}
	return n
}

// Rejected returns how many transitions were rejected as illegal and how
// many for a violated contract.
func (m *FSM) Rejected() (illegal, contract uint64) { return m.illegal, m.violated }

// AddCounts adds this FSM's count of every legal transition to dst under
// its "FROM->TO" name, zero counts included, so that summing the FSMs of
// all CPUs gives summary.json's fsm_transitions with a stable set of keys.
func (m *FSM) AddCounts(dst map[string]uint64) {
	for from := range NumStates {
		for to := range NumStates {
			if legality[from][to] != 0 {
				dst[transitionNames[from][to]] += m.counts[from][to]
			}
		}
	}
}

// TransitionCount is the count of one transition.
type TransitionCount struct {
	Name     string // "FROM->TO"
	From, To State
	N        uint64
}

// Counts returns the count of every legal transition, zero counts
// included, sorted by Name.
func (m *FSM) Counts() []TransitionCount {
	out := make([]TransitionCount, 0, 2*NumStates)
	for from := range NumStates {
		for to := range NumStates {
			if legality[from][to] != 0 {
				out = append(out, TransitionCount{Name: transitionNames[from][to], From: from, To: to, N: m.counts[from][to]})
			}
		}
	}
	slices.SortFunc(out, func(a, b TransitionCount) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
