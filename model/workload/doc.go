// Package workload draws the random quantities of a synthetic workload:
// allocation sizes (Size), arrival times (Arrivals) and object lifetimes
// (Lifetime).
//
// The package is pure: it does no I/O (ParseHistogram reads an io.Reader
// the caller opened), keeps no package-level state and never reads the
// clock. Randomness is passed in: every draw takes the *sim.Stream to draw
// from, so one seed reproduces a run, and the same stream state always
// gives the same draws. Size and Lifetime are immutable once built and may
// be shared; Arrivals holds the state of one arrival process and belongs
// to one workload.
//
// Samplers are concrete structs with a kind switch, not interfaces: they
// run once per simulated allocation, and a draw allocates nothing
// (bench_test.go measures each one).
//
// Units are carried in names: sizes in bytes (int64, at least 1), times
// and lifetimes in nanoseconds (int64, at least 1), rates per second.
package workload
