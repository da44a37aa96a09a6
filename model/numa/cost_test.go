package numa

import (
	"strings"
	"testing"
)

func TestIdleLatencyAndBandwidth(t *testing.T) {
	tests := []struct {
		preset       string
		from, to     int
		latencyNs    int64
		bandwidthMBs int64
	}{
		// The MLC measurements themselves (Xeon 8269, SLIT 10/21).
		{PresetIntel2S, 0, 0, 78, 79_800},
		{PresetIntel2S, 0, 1, 143, 60_100},
		{PresetIntel2S, 1, 0, 143, 60_100},
		{Preset1Node, 0, 0, 78, 79_800},
		// The distance rule elsewhere.
		{PresetEPYC2SNPS4, 0, 3, 90, 75_312},
		{PresetEPYC2SNPS4, 0, 4, 208, 48_201},
		{Preset4Socket, 0, 1, 143, 60_100},
		{Preset4Socket, 0, 2, 202, 49_084},
		// Persistent memory: 305 ns and 39.4 GB/s on its own socket.
		{PresetTiered, 0, 2, 305, 39_400},
		{PresetTiered, 1, 2, 370, 39_400},
		{PresetTiered, 1, 3, 305, 39_400},
		{PresetTiered, 2, 0, 119, 66_027},
	}
	for _, tc := range tests {
		topo := mustPreset(tc.preset)
		if got := topo.IdleLatencyNs(tc.from, tc.to); got != tc.latencyNs {
			t.Errorf("%s: IdleLatencyNs(%d, %d) = %d, want %d", tc.preset, tc.from, tc.to, got, tc.latencyNs)
		}
		if got := topo.BandwidthMBps(tc.from, tc.to); got != tc.bandwidthMBs {
			t.Errorf("%s: BandwidthMBps(%d, %d) = %d, want %d", tc.preset, tc.from, tc.to, got, tc.bandwidthMBs)
		}
		if got := topo.LatencyNs(tc.from, tc.to, 0); got != tc.latencyNs {
			t.Errorf("%s: LatencyNs with no load = %d, want the idle %d", tc.preset, got, tc.latencyNs)
		}
	}
}

// TestSLITIsNotLatency checks the point REFERENCE.md makes: the remote
// latency is 1.84x the local one although the SLIT says 2.1x.
func TestSLITIsNotLatency(t *testing.T) {
	topo := mustPreset(PresetIntel2S)
	local, remote := topo.IdleLatencyNs(0, 0), topo.IdleLatencyNs(0, 1)
	if ratio := float64(remote) / float64(local); ratio < 1.8 || ratio > 1.9 {
		t.Fatalf("remote/local = %.2f, want about 1.84 (MLC), not %.1f (SLIT)", ratio, float64(topo.Distance(0, 1))/10)
	}
}

// TestContentionFitsMLC pins the contention curve to the Intel MLC
// --loaded_latency measurements it was fitted to (Xeon Silver 4110,
// DDR4-2666): within 5 % everywhere. Latencies are in units of 10 ps so
// that the idle 81.96 ns survives integer arithmetic.
func TestContentionFitsMLC(t *testing.T) {
	points := []struct{ latencyNs, bandwidthMBps float64 }{
		{81.96, 1237.6}, {83.00, 1785.2}, {84.20, 2583.5}, {84.99, 3354.4}, {85.56, 4383.3},
		{86.54, 6068.3}, {87.24, 7680.3}, {87.81, 9723.8}, {88.79, 13463.5}, {90.16, 18355.0},
		{90.85, 22580.9}, {92.29, 29473.3}, {94.56, 42695.4}, {98.94, 68357.8}, {123.71, 131282.0},
		{129.67, 135267.3}, {130.37, 135599.5}, {130.34, 135653.8}, {130.31, 135655.9},
	}
	c := DefaultCost()
	const idle, peak = 8196, 135656 // 81.96 ns in 10 ps; peak MB/s
	for _, p := range points {
		got := float64(c.LoadedLatencyNs(idle, peak, int64(p.bandwidthMBps))) / 100
		if rel := got/p.latencyNs - 1; rel > 0.05 || rel < -0.05 {
			t.Errorf("at %.1f MB/s: model %.2f ns, MLC %.2f ns (%.1f %%)", p.bandwidthMBps, got, p.latencyNs, 100*rel)
		}
	}
}

func TestContentionCurve(t *testing.T) {
	topo := mustPreset(PresetIntel2S)
	bw := topo.BandwidthMBps(0, 1)
	prev := int64(0)
	for demand := int64(0); demand <= 2*bw; demand += bw / 50 {
		lat := topo.LatencyNs(0, 1, demand)
		if lat < prev {
			t.Fatalf("latency falls from %d to %d ns at %d MB/s", prev, lat, demand)
		}
		prev = lat
	}
	// Past saturation the curve is capped: 1 + 0.49*0.97 + 0.0031*0.97/0.03.
	if got, want := topo.LatencyNs(0, 1, 10*bw), int64(225); got != want {
		t.Errorf("saturated remote latency %d ns, want %d (143 ns x 1.576)", got, want)
	}
	if got := topo.UtilisationPPM(0, 1, bw/2); got != 500_000 {
		t.Errorf("UtilisationPPM at half the bandwidth = %d", got)
	}
	if got := topo.UtilisationPPM(0, 1, -5); got != 0 {
		t.Errorf("negative demand: %d", got)
	}
	if a, b := topo.LatencyAtUtilisationNs(0, 1, 500_000), topo.LatencyNs(0, 1, bw/2); a != b {
		t.Errorf("LatencyAtUtilisationNs(50 %%) = %d, LatencyNs at half the bandwidth = %d", a, b)
	}
	if a, b := topo.LatencyAtUtilisationNs(0, 1, 2_000_000), topo.LatencyNs(0, 1, 10*bw); a != b {
		t.Errorf("utilisation above 1 is not capped: %d vs %d", a, b)
	}
	if got := topo.LatencyNs(0, 0, 1<<62); got <= 0 {
		t.Errorf("huge demand overflowed: %d", got)
	}
}

func TestCostOverridesAndValidate(t *testing.T) {
	c := DefaultCost().WithOverrides(100, 0, 0, 50_000)
	if c.LocalLatencyNs != 100 || c.RemoteLatencyNs != DefaultRemoteLatencyNs || c.RemoteBandwidthMBps != 50_000 {
		t.Fatalf("WithOverrides: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		c    CostParams
		want string
	}{
		{DefaultCost().WithOverrides(200, 0, 0, 0), "remote_latency_ns: must be at least local_latency_ns (200 ns): remote memory is not faster, got 143"},
		{DefaultCost().WithOverrides(-1, 0, 0, 0), "local_latency_ns: must be in 1..1000000, got -1"},
		{DefaultCost().WithOverrides(0, 0, 1000, 0), "remote_bandwidth_mbps: must be at most local_bandwidth_mbps (1000 MB/s), got 60100"},
		{DefaultCost().WithOverrides(0, 0, 20_000_000, 0), "local_bandwidth_mbps: must be in 1..10000000, got 20000000"},
		{CostParams{LocalLatencyNs: 1, RemoteLatencyNs: 1, LocalBandwidthMBps: 1, RemoteBandwidthMBps: 1, MaxUtilisationPPM: 999_999},
			"cost.max_utilisation_ppm: must be in 0..990000, got 999999"},
	}
	for _, tc := range tests {
		err := tc.c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.c, err, tc.want)
		}
	}
}

// TestHotPathsDoNotAllocate backs the package comment: the per-access
// queries allocate nothing, with dense and with sparse node ids.
func TestHotPathsDoNotAllocate(t *testing.T) {
	dense, sparse := mustPreset(PresetEPYC2SNPS4), power9AC922(t)
	var sink int64
	allocs := testing.AllocsPerRun(100, func() {
		sink += int64(dense.NodeOfCPU(100)) + int64(dense.Distance(1, 6)) + dense.LatencyNs(1, 6, 30_000) + dense.IdleLatencyNs(0, 7)
		sink += int64(sparse.NodeOfCPU(100)) + int64(sparse.Distance(8, 253)) + sparse.LatencyNs(8, 253, 10_000)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per access", allocs)
	}
	_ = sink
}
