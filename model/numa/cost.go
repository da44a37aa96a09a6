package numa

import (
	"errors"
	"fmt"
)

// The cost model.
//
// Idle latency. Intel MLC measured 77.9 ns local and 143.2 ns remote idle
// load latency on a 2-socket Xeon Platinum 8269 whose SLIT says 10 and 21
// (REFERENCE.md, section NUMA; a second 2-socket Xeon measured 108.2 / 195.7
// ns, 1.81x, against the SLIT's 2.1x). Only one remote distance was
// measured, so latencies for other distances are derived by a rule, and the
// rule is not "latency is proportional to distance": we take the part of
// the latency above the local one as proportional to the part of the
// distance above LocalDistance, calibrated on the measured pair:
//
//	lat(d) = local + (remote - local) × (d - 10) / (21 - 10)
//
// so 21 → 143 ns, 12 (AMD NPS4 same socket, Intel SNC) → 90 ns, 31 (two
// hops on a 4-socket ring) → 202 ns, 32 (AMD other socket) → 208 ns. This
// keeps the measured point exact, keeps the ordering the SLIT gives (which
// is all Linux itself uses the SLIT for), and says nothing more than the
// data does. Media slower than DRAM (Node.MediaLatencyNs) add their own
// latency on top.
//
// Bandwidth. MLC's bandwidth matrix on the same kind of machine measured
// 79.8 GB/s local and 60.1 GB/s remote (REFERENCE.md). For other distances
// the time per byte, 1/bandwidth, grows linearly with (d - 10) through the
// same two points:
//
//	1/bw(d) = 1/local + (1/remote - 1/local) × (d - 10) / 11
//
// so 21 → 60.1 GB/s, 12 → 75.3 GB/s, 32 → 48.2 GB/s. A node's
// MediaBandwidthMBps caps it.
//
// Contention. The latency of a path rises with the traffic it carries. With
// u the utilisation of the path's bandwidth, capped at MaxUtilisationPPM,
//
//	lat(u) = idle × (1 + a × u + b × u / (1 - u))
//
// The u/(1-u) term is the M/M/1 waiting time in units of the service time
// (Wq/S = ρ/(1-ρ), REFERENCE.md "Queueing checks"), the queue at a memory
// controller near saturation; the linear term is the gentler rise before
// it (bank and row conflicts, which a single queue does not capture). The
// cap stands for the closed loop real hardware runs in: cores have a
// bounded number of outstanding misses, so measured latency levels off at
// saturation instead of growing without bound. a = 0.49, b = 0.0031 and the
// cap 0.97 are a least-squares fit to an Intel MLC --loaded_latency curve of
// a Xeon Silver 4110 with DDR4-2666 (82 ns at 1.2 GB/s, 99 ns at 68.4 GB/s,
// 124 ns at 131.3 GB/s, 130 ns at the 135.7 GB/s peak;
// https://community.intel.com/t5/Software-Tuning-Performance/Intel-Memory-Latency-Checker-v3-5-test/m-p/1126268):
// the fitted curve stays within 5 % of every measured point and gives
// 1.58 × idle at saturation, where MLC measured 1.59 ×.

// Defaults of the cost model; see the comment above for their sources.
const (
	// DefaultLocalLatencyNs is MLC's 77.9 ns local idle latency on a
	// 2-socket Xeon Platinum 8269, rounded.
	DefaultLocalLatencyNs = 78
	// DefaultRemoteLatencyNs is MLC's 143.2 ns remote (SLIT 21) idle
	// latency on the same machine, rounded.
	DefaultRemoteLatencyNs = 143
	// DefaultLocalBandwidthMBps is MLC's 79.8 GB/s local bandwidth.
	DefaultLocalBandwidthMBps = 79_800
	// DefaultRemoteBandwidthMBps is MLC's 60.1 GB/s remote bandwidth.
	DefaultRemoteBandwidthMBps = 60_100
	// DefaultContentionLinearPPM is the fitted a = 0.49, in millionths.
	DefaultContentionLinearPPM = 490_000
	// DefaultContentionQueuePPM is the fitted b = 0.0031, in millionths.
	DefaultContentionQueuePPM = 3_100
	// DefaultMaxUtilisationPPM is the utilisation cap 0.97, in millionths.
	DefaultMaxUtilisationPPM = 970_000
	// CalibrationDistance is the SLIT distance at which RemoteLatencyNs
	// and RemoteBandwidthMBps were measured: one Intel UPI hop.
	CalibrationDistance = 21
)

// Limits of the cost parameters, chosen so that no computation overflows.
const (
	// MaxLatencyNs bounds every latency parameter (1 ms).
	MaxLatencyNs = 1_000_000
	// MaxBandwidthMBps bounds every bandwidth parameter (10 TB/s).
	MaxBandwidthMBps = 10_000_000
	// MaxContentionPPM bounds the contention coefficients (100×).
	MaxContentionPPM = 100_000_000
	// MaxUtilisationCapPPM bounds MaxUtilisationPPM (0.99).
	MaxUtilisationCapPPM = 990_000
)

// ppm is one million: utilisation and coefficients are in millionths.
const ppm = 1_000_000

// CostParams are the parameters of the cost model. All are integers so that
// results do not depend on the platform's floating point.
type CostParams struct {
	// LocalLatencyNs is the idle load latency to local memory, in ns.
	LocalLatencyNs int64
	// RemoteLatencyNs is the idle load latency at CalibrationDistance, in
	// ns; at least LocalLatencyNs.
	RemoteLatencyNs int64
	// LocalBandwidthMBps is the bandwidth of a node to its own memory, in
	// MB/s.
	LocalBandwidthMBps int64
	// RemoteBandwidthMBps is the bandwidth at CalibrationDistance, in MB/s;
	// at most LocalBandwidthMBps.
	RemoteBandwidthMBps int64
	// ContentionLinearPPM is the coefficient a of the contention curve,
	// in millionths.
	ContentionLinearPPM int64
	// ContentionQueuePPM is the coefficient b of the contention curve, in
	// millionths.
	ContentionQueuePPM int64
	// MaxUtilisationPPM caps the utilisation the curve is evaluated at, in
	// millionths (at most MaxUtilisationCapPPM).
	MaxUtilisationPPM int64
}

// DefaultCost returns the default cost model: the Intel MLC measurements
// and the fitted contention curve described above.
func DefaultCost() CostParams {
	return CostParams{
		LocalLatencyNs:      DefaultLocalLatencyNs,
		RemoteLatencyNs:     DefaultRemoteLatencyNs,
		LocalBandwidthMBps:  DefaultLocalBandwidthMBps,
		RemoteBandwidthMBps: DefaultRemoteBandwidthMBps,
		ContentionLinearPPM: DefaultContentionLinearPPM,
		ContentionQueuePPM:  DefaultContentionQueuePPM,
		MaxUtilisationPPM:   DefaultMaxUtilisationPPM,
	}
}

// WithOverrides returns c with the given parameters replaced; a zero
// argument keeps c's value. It is how a scenario's local_latency_ns,
// remote_latency_ns, local_bandwidth_mbps and remote_bandwidth_mbps apply.
func (c CostParams) WithOverrides(localLatencyNs, remoteLatencyNs, localBandwidthMBps, remoteBandwidthMBps int64) CostParams {
	if localLatencyNs != 0 {
		c.LocalLatencyNs = localLatencyNs
	}
	if remoteLatencyNs != 0 {
		c.RemoteLatencyNs = remoteLatencyNs
	}
	if localBandwidthMBps != 0 {
		c.LocalBandwidthMBps = localBandwidthMBps
	}
	if remoteBandwidthMBps != 0 {
		c.RemoteBandwidthMBps = remoteBandwidthMBps
	}
	return c
}

// Validate checks the parameters' ranges and that latency does not fall
// and bandwidth does not rise with distance. Problems are *FieldError
// values keyed by the scenario key of the parameter ("remote_latency_ns");
// the contention parameters, which scenarios do not set, are keyed
// "cost.NAME".
func (c CostParams) Validate() error {
	var f fieldErrors
	inRange := func(key string, v, lo, hi int64) bool {
		if v < lo || v > hi {
			f.add(key, "must be in %d..%d, got %d", lo, hi, v)
			return false
		}
		return true
	}
	if inRange("local_latency_ns", c.LocalLatencyNs, 1, MaxLatencyNs) && c.RemoteLatencyNs < c.LocalLatencyNs {
		f.add("remote_latency_ns", "must be at least local_latency_ns (%d ns): remote memory is not faster, got %d", c.LocalLatencyNs, c.RemoteLatencyNs)
	}
	inRange("remote_latency_ns", c.RemoteLatencyNs, 1, MaxLatencyNs)
	if inRange("local_bandwidth_mbps", c.LocalBandwidthMBps, 1, MaxBandwidthMBps) && c.RemoteBandwidthMBps > c.LocalBandwidthMBps {
		f.add("remote_bandwidth_mbps", "must be at most local_bandwidth_mbps (%d MB/s), got %d", c.LocalBandwidthMBps, c.RemoteBandwidthMBps)
	}
	inRange("remote_bandwidth_mbps", c.RemoteBandwidthMBps, 1, MaxBandwidthMBps)
	inRange("cost.contention_linear_ppm", c.ContentionLinearPPM, 0, MaxContentionPPM)
	inRange("cost.contention_queue_ppm", c.ContentionQueuePPM, 0, MaxContentionPPM)
	inRange("cost.max_utilisation_ppm", c.MaxUtilisationPPM, 0, MaxUtilisationCapPPM)
	if len(f.list) > 0 {
		return errors.Join(f.list...)
	}
	return nil
}

// divRound returns num/den rounded to the nearest integer, halves up; num
// >= 0 and den > 0.
func divRound(num, den int64) int64 { return (num + den/2) / den }

// LatencyAtDistanceNs returns the idle latency the distance rule gives for
// SLIT distance d (distances below LocalDistance count as local).
func (c CostParams) LatencyAtDistanceNs(d int) int64 {
	extra := int64(max(d-LocalDistance, 0))
	return c.LocalLatencyNs + divRound((c.RemoteLatencyNs-c.LocalLatencyNs)*extra, CalibrationDistance-LocalDistance)
}

// BandwidthAtDistanceMBps returns the bandwidth the distance rule gives for
// SLIT distance d.
func (c CostParams) BandwidthAtDistanceMBps(d int) int64 {
	extra := int64(max(d-LocalDistance, 0))
	const span = CalibrationDistance - LocalDistance
	l, r := c.LocalBandwidthMBps, c.RemoteBandwidthMBps
	return divRound(l*r*span, r*span+(l-r)*extra)
}

// UtilisationPPM returns demandMBps as a fraction of bandwidthMBps, in
// millionths, capped at MaxUtilisationPPM. Negative demand counts as none.
func (c CostParams) UtilisationPPM(bandwidthMBps, demandMBps int64) int64 {
	if demandMBps <= 0 || bandwidthMBps <= 0 {
		return 0
	}
	if demandMBps >= bandwidthMBps {
		return c.MaxUtilisationPPM
	}
	return min(demandMBps*ppm/bandwidthMBps, c.MaxUtilisationPPM)
}

// LoadedLatencyNs applies the contention curve to an idle latency for a
// path of bandwidthMBps carrying demandMBps.
func (c CostParams) LoadedLatencyNs(idleNs, bandwidthMBps, demandMBps int64) int64 {
	return c.LatencyAtUtilisationNs(idleNs, c.UtilisationPPM(bandwidthMBps, demandMBps))
}

// LatencyAtUtilisationNs applies the contention curve to an idle latency
// at a utilisation given in millionths (clamped to 0..MaxUtilisationPPM),
// for callers that track utilisation rather than traffic.
func (c CostParams) LatencyAtUtilisationNs(idleNs, utilisationPPM int64) int64 {
	u := min(max(utilisationPPM, 0), c.MaxUtilisationPPM)
	if u == 0 {
		return idleNs
	}
	extraPPM := c.ContentionLinearPPM*u/ppm + c.ContentionQueuePPM*u/(ppm-u)
	return idleNs + divRound(idleNs*extraPPM, ppm)
}

// IdleLatencyNs returns the idle load latency, in ns, of an access from
// the CPUs of node from to the memory of node to: the distance rule plus
// the target's MediaLatencyNs. It panics if a node does not exist.
func (t *Topology) IdleLatencyNs(from, to int) int64 {
	i, j := t.mustIndex(from), t.mustIndex(to)
	return t.Cost.LatencyAtDistanceNs(t.Distances[i][j]) + t.Nodes[j].MediaLatencyNs
}

// BandwidthMBps returns the bandwidth, in MB/s, from the CPUs of node from
// to the memory of node to: the distance rule, capped by the target's
// MediaBandwidthMBps. It panics if a node does not exist.
func (t *Topology) BandwidthMBps(from, to int) int64 {
	i, j := t.mustIndex(from), t.mustIndex(to)
	bw := t.Cost.BandwidthAtDistanceMBps(t.Distances[i][j])
	if media := t.Nodes[j].MediaBandwidthMBps; media > 0 {
		bw = min(bw, media)
	}
	return bw
}

// UtilisationPPM returns the utilisation, in millionths and capped, of the
// path from node from to node to when it carries demandMBps.
func (t *Topology) UtilisationPPM(from, to int, demandMBps int64) int64 {
	return t.Cost.UtilisationPPM(t.BandwidthMBps(from, to), demandMBps)
}

// LatencyNs returns the latency, in ns, of an access from the CPUs of node
// from to the memory of node to while the path carries demandMBps of
// traffic in total (this stream included; 1 MB/s is one byte per
// microsecond). Which traffic counts is the caller's choice: the memory
// controller of the target saturates first, so the sum of all streams into
// node to is the usual one. With no demand it equals IdleLatencyNs.
func (t *Topology) LatencyNs(from, to int, demandMBps int64) int64 {
	return t.Cost.LoadedLatencyNs(t.IdleLatencyNs(from, to), t.BandwidthMBps(from, to), demandMBps)
}

// LatencyAtUtilisationNs returns the latency, in ns, of an access from
// node from to node to when the path runs at utilisationPPM (millionths of
// its bandwidth). It panics if a node does not exist.
func (t *Topology) LatencyAtUtilisationNs(from, to int, utilisationPPM int64) int64 {
	return t.Cost.LatencyAtUtilisationNs(t.IdleLatencyNs(from, to), utilisationPPM)
}

// String summarises c for messages.
func (c CostParams) String() string {
	return fmt.Sprintf("local %d ns / %d MB/s, remote (SLIT %d) %d ns / %d MB/s",
		c.LocalLatencyNs, c.LocalBandwidthMBps, CalibrationDistance, c.RemoteLatencyNs, c.RemoteBandwidthMBps)
}
