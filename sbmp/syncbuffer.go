package sbmp

import (
	"errors"
	"sync/atomic"
)

// This file is the SyncBuffer of SPEC 2.2, the hot-switch double buffer of
// one CPU.

// Errors returned by SyncBuffer. They are sentinels, so the error paths do
// not allocate either; compare with errors.Is.
var (
	// ErrStaleVersion: the buffer moved past the caller's version. The
	// caller reloads and retries, charging CostCASRetry per retry, up to
	// its own retry bound.
	ErrStaleVersion = errors.New("sbmp: SyncBuffer version is stale; reload and retry")
	// ErrNotSyncing: BeginSync was called while the caller's FSM was not
	// in SYNCING; the shadow is written only in SYNCING (SPEC 2.2).
	ErrNotSyncing = errors.New("sbmp: SyncBuffer shadow may be written only in SYNCING")
	// ErrNoBlock: the shadow is block 0, which means "none".
	ErrNoBlock = errors.New("sbmp: SyncBuffer shadow is block 0 (none)")
	// ErrSameBlock: the shadow is the block that local already serves;
	// local and shadow must be different blocks (SPEC 2.2).
	ErrSameBlock = errors.New("sbmp: SyncBuffer shadow equals local")
	// ErrShadowPending: a shadow is already pending; it must be committed
	// or aborted before another sync begins, or its writes would be lost.
	ErrShadowPending = errors.New("sbmp: SyncBuffer already holds a pending shadow")
	// ErrNoShadow: Commit or Abort found no pending shadow at the
	// caller's version.
	ErrNoShadow = errors.New("sbmp: SyncBuffer holds no pending shadow")
	// ErrBufferInUse: Init was called on a buffer that already switched.
	ErrBufferInUse = errors.New("sbmp: SyncBuffer.Init on a buffer already in use")
	// ErrVersionExhausted: the version counter would pass its 61-bit
	// limit (after 2^59 syncs; a loud error rather than a wrap).
	ErrVersionExhausted = errors.New("sbmp: SyncBuffer version exhausted")
)

// Layout of SyncBuffer.word: version<<3 | localIndex<<2 | phase.
const (
	phaseMask    = 3
	phaseIdle    = 0 // no shadow
	phaseWriting = 1 // a BeginSync claimed the shadow slot and is writing it
	phasePending = 2 // the shadow is published and may be committed
	indexShift   = 2
	versionShift = 3
	maxVersion   = 1<<(64-versionShift) - 1
)

func packWord(version, index, phase uint64) uint64 {
	return version<<versionShift | index<<indexShift | phase
}

func wordVersion(w uint64) uint64 { return w >> versionShift }
func wordIndex(w uint64) uint64   { return w >> indexShift & 1 }
func wordPhase(w uint64) uint64   { return w & phaseMask }

// SyncBuffer is one CPU's hot-switch double buffer (SPEC 2.2): local, the
// block now serving, read lock-free; shadow, the switch target, written
// only while the CPU's FSM is in SYNCING; and version, the optimistic
// concurrency counter. A block is a uint64 address; 0 means none. local
// and shadow are always different blocks.
//
// A sync runs: v := Load; BeginSync(StateSyncing, v, shadow) returns v';
// after the FSM reaches ACTIVE, Commit(v') switches local = shadow, or
// Abort(v') drops the shadow when the sync fails. When the switched-to
// block stops serving (the FSM leaves ACTIVE), Retire sets local back to
// 0: the allocator keeps local set exactly while its CPU is ACTIVE, so a
// later sync may switch to the same block again. Every mutation is a
// compare-and-swap on the version, so an operation made against a version
// that is no longer current fails with ErrStaleVersion and changes
// nothing: a pending shadow cannot be overwritten, and a switch can only
// install the shadow that was published at the caller's version. That is
// how no write is lost across a switch.
//
// The version is strictly monotonic and names exactly one state of the
// buffer: BeginSync advances it by 2 (claim, then publish), Commit and
// Abort by 1, Init and Retire by 2; failed calls leave it unchanged.
//
// Representation (chosen by measurement against an atomic.Pointer to
// immutable snapshots, which costs one allocation per sync and was about
// 8x slower per BeginSync+Commit): the two blocks live in a two-slot
// array, and one atomic word packs the version, which slot is local, and
// the phase of the shadow slot (idle, being written, pending). Only the
// shadow slot is ever written, and only by the BeginSync that claimed it
// by advancing the version; Load re-reads the word to detect that a
// switch and a new claim reused its slot (a seqlock read). Load is
// lock-free (it retries only if a writer made progress) and no method
// allocates. A claimed sync holds other writers off only for the two
// atomic stores between claim and publish.
//
// The zero SyncBuffer is ready: local is 0 (none) at version 0. It must
// not be copied after first use. It is safe for concurrent use.
type SyncBuffer struct {
	word  atomic.Uint64
	slots [2]atomic.Uint64
}

// Init sets local on a fresh buffer (version 0), outside any sync, and
// returns the new version; ErrBufferInUse if the buffer has switched
// already, ErrNoBlock if local is 0.
func (b *SyncBuffer) Init(local uint64) (version uint64, err error) {
	if local == 0 {
		return 0, ErrNoBlock
	}
	// Write the other slot under a claim and publish it as local, so
	// that a concurrent Load sees either block 0 at version <= 1 or local
	// at version 2.
	if !b.word.CompareAndSwap(0, packWord(1, 0, phaseWriting)) {
		return 0, ErrBufferInUse
	}
	b.slots[1].Store(local)
	b.word.Store(packWord(2, 1, phaseIdle))
	return 2, nil
}

// Load returns the block now serving and the version it was read at. It
// is lock-free and does not allocate.
func (b *SyncBuffer) Load() (local, version uint64) {
	for {
		w := b.word.Load()
		local = b.slots[wordIndex(w)].Load()
		if b.word.Load() == w {
			return local, wordVersion(w)
		}
	}
}

// SyncState is a consistent view of a SyncBuffer.
type SyncState struct {
	Local   uint64 // the block now serving; 0 if none
	Shadow  uint64 // the published switch target; 0 if none or not yet published
	Version uint64
	Pending bool // a sync began and was neither committed nor aborted
}

// Snapshot returns a consistent view of the buffer. While a BeginSync is
// between claim and publish, Pending is true and Shadow is still 0.
func (b *SyncBuffer) Snapshot() SyncState {
	for {
		w := b.word.Load()
		i := wordIndex(w)
		s := SyncState{Local: b.slots[i].Load(), Version: wordVersion(w), Pending: wordPhase(w) != phaseIdle}
		if wordPhase(w) == phasePending {
			s.Shadow = b.slots[i^1].Load()
		}
		if b.word.Load() == w {
			return s
		}
	}
}

// Pending reports whether a sync is in flight: a shadow was claimed and
// not yet committed or aborted. It is Facts.PendingSync for the FSM.
func (b *SyncBuffer) Pending() bool { return wordPhase(b.word.Load()) != phaseIdle }

// BeginSync writes shadow as the switch target, provided that the
// caller's FSM is in SYNCING (state), that the buffer is still at
// expectVersion with no shadow pending, and that shadow is a block other
// than local. It returns the version to pass to Commit or Abort.
func (b *SyncBuffer) BeginSync(state State, expectVersion, shadow uint64) (version uint64, err error) {
	if state != StateSyncing {
		return 0, ErrNotSyncing
	}
	if shadow == 0 {
		return 0, ErrNoBlock
	}
	w := b.word.Load()
	switch {
	case wordVersion(w) != expectVersion:
		return 0, ErrStaleVersion
	case wordPhase(w) != phaseIdle:
		return 0, ErrShadowPending
	case expectVersion > maxVersion-3:
		return 0, ErrVersionExhausted
	}
	i := wordIndex(w)
	// Versions never repeat, so if the CAS below succeeds the word did
	// not change since it was loaded, and this is local at expectVersion.
	if b.slots[i].Load() == shadow {
		return 0, ErrSameBlock
	}
	if !b.word.CompareAndSwap(w, packWord(expectVersion+1, i, phaseWriting)) {
		return 0, ErrStaleVersion
	}
	b.slots[i^1].Store(shadow)
	b.word.Store(packWord(expectVersion+2, i, phasePending))
	return expectVersion + 2, nil
}

// Commit switches local = shadow with one compare-and-swap, clears the
// shadow and advances the version. It returns the block that stopped
// serving (0 if none) and the new version. ErrStaleVersion means the
// buffer moved past expectVersion (retry after Load, if a shadow is still
// pending); ErrNoShadow means there was nothing to commit.
func (b *SyncBuffer) Commit(expectVersion uint64) (retired, version uint64, err error) {
	w, err := b.pendingAt(expectVersion)
	if err != nil {
		return 0, 0, err
	}
	i := wordIndex(w)
	retired = b.slots[i].Load()
	if !b.word.CompareAndSwap(w, packWord(expectVersion+1, i^1, phaseIdle)) {
		return 0, 0, ErrStaleVersion
	}
	return retired, expectVersion + 1, nil
}

// Abort drops the pending shadow, leaving local unchanged, and advances
// the version. It returns the dropped shadow and the new version; errors
// as for Commit.
func (b *SyncBuffer) Abort(expectVersion uint64) (dropped, version uint64, err error) {
	w, err := b.pendingAt(expectVersion)
	if err != nil {
		return 0, 0, err
	}
	i := wordIndex(w)
	dropped = b.slots[i^1].Load()
	if !b.word.CompareAndSwap(w, packWord(expectVersion+1, i, phaseIdle)) {
		return 0, 0, ErrStaleVersion
	}
	return dropped, expectVersion + 1, nil
}

// Retire ends the service of the block local holds, outside any sync:
// local becomes 0 (none) and the version advances. It returns the block
// that stopped serving and the new version; ErrStaleVersion if the buffer
// moved past expectVersion, ErrShadowPending if a sync is in flight (its
// shadow must be committed or aborted first), ErrNoBlock if local is
// already 0. Like BeginSync it claims the other slot, writes 0 there and
// publishes it as local, so a concurrent Load sees either the old block
// or 0; between claim and publish, Snapshot and Pending report a write in
// progress.
func (b *SyncBuffer) Retire(expectVersion uint64) (retired, version uint64, err error) {
	w := b.word.Load()
	switch {
	case wordVersion(w) != expectVersion:
		return 0, 0, ErrStaleVersion
	case wordPhase(w) != phaseIdle:
		return 0, 0, ErrShadowPending
	case expectVersion > maxVersion-3:
		return 0, 0, ErrVersionExhausted
	}
	i := wordIndex(w)
	retired = b.slots[i].Load()
	if retired == 0 {
		return 0, 0, ErrNoBlock
	}
	if !b.word.CompareAndSwap(w, packWord(expectVersion+1, i, phaseWriting)) {
		return 0, 0, ErrStaleVersion
	}
	b.slots[i^1].Store(0)
	b.word.Store(packWord(expectVersion+2, i^1, phaseIdle))
	return retired, expectVersion + 2, nil
}

// pendingAt loads the word and checks that it is at expectVersion with a
// published shadow.
func (b *SyncBuffer) pendingAt(expectVersion uint64) (uint64, error) {
	w := b.word.Load()
	switch {
	case wordVersion(w) != expectVersion:
		return 0, ErrStaleVersion
	case wordPhase(w) == phaseIdle:
		return 0, ErrNoShadow
	case wordPhase(w) == phaseWriting:
		// The caller read the version of another BeginSync's claim;
		// the publish that follows advances it.
		return 0, ErrStaleVersion
	}
	return w, nil
}
