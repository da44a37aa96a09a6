package policies

import "github.com/sbmpsim/sbmpsim/sbmp"

// sharedDegradeParams are the parameters every degrade policy has: when
// its degrade episodes end (sbmp.DegradeHysteresis, whose doc justifies
// the defaults; both are SBMP design parameters) and what a degraded
// small request costs (sbmp.DegradeSmallCost). They share their keys
// (policy.degrade_min_dwell_ms, policy.degrade_exit_refills,
// policy.degrade_carve_small) across the degrade policies, as ParamKey
// does for a parameter name.
func sharedDegradeParams() []Param {
	d := sbmp.DefaultDegradeHysteresis()
	return []Param{
		{Name: "min_dwell_ms", Unit: "ms", Default: float64(d.MinDwellNs) / 1e6, Min: 0, Max: 3.6e6, Doc: "shortest degrade episode: it ends no sooner, so SPEC 2.6's flush of every CPU cache happens at most once per dwell"},
		{Name: "exit_refills", Unit: "count", Default: float64(d.ExitRefills), Min: 1, Max: 1 << 20, Integer: true, Doc: "refills in a row (any CPU) that must find slots to end a degrade episode"},
		{Name: "carve_small", Unit: "flag", Default: 0, Min: 0, Max: 1, Integer: true, Doc: "what a small request served by Tier-2 in degrade costs: 0, a fallback block of its own (at least 8 KiB, SPEC 2.5's minimum); 1, a slot of an 8 KiB fallback block carved for its class and shared under the slow-path lock"},
	}
}

// withSharedParams gives every spec the shared parameters, after its
// own, and wraps what it builds so that the allocator reads them
// (sbmp.DegradeHysteresisPolicy, sbmp.DegradeSmallCostPolicy).
func withSharedParams(specs []Spec) []Spec {
	for i := range specs {
		s := &specs[i]
		s.Params = append(s.Params, sharedDegradeParams()...)
		build := s.build
		s.build = func(v Values) any {
			h := sbmp.DegradeHysteresis{MinDwellNs: int64(v["min_dwell_ms"] * 1e6), ExitRefills: int(v["exit_refills"])}
			small := sbmp.DegradeSmallBlock
			if v["carve_small"] == 1 {
				small = sbmp.DegradeSmallCarve
			}
			return sbmp.WithSmallCost(sbmp.WithHysteresis(build(v).(sbmp.DegradePolicy), h), small)
		}
	}
	return specs
}

func degradeSpecs() []Spec {
	return withSharedParams([]Spec{
		{Kind: KindDegrade, Name: "immediate-tier2", Doc: "Serve the allocation from Tier-2 (the page source) at once: each small object then takes whole pages (SPEC 1.3's chain).",
			build: func(Values) any { return sbmp.ImmediateTier2{} }},
		{Kind: KindDegrade, Name: "wait-refill", Doc: "Ask the caller to retry every `policy.degrade_wait_ms` (a free or a merge may make a refill possible), up to `policy.degrade_max_wait_ms` in all, then Tier-2.",
			Params: []Param{
				{Name: "wait_ms", Unit: "ms", Default: 1, Min: 0.001, Max: 60000, Doc: "time between retries"},
				{Name: "max_wait_ms", Unit: "ms", Default: 10, Min: 0, Max: 3.6e6, Doc: "stall bound before falling back to Tier-2"},
			},
			build: func(v Values) any {
				return waitRefill{waitNs: int64(v["wait_ms"] * 1e6), maxNs: int64(v["max_wait_ms"] * 1e6)}
			}},
		{Kind: KindDegrade, Name: "steal-remote", Doc: "Take slots from any node's existing Tier-1 slabs, nearest first, without growing Tier-1, then from other CPUs' Tier-0 caches (half of each, nearest node first), where a failed refill never looks; then Tier-2.",
			build: func(Values) any { return simpleDegrade{name: "steal-remote", action: sbmp.DegradeStealRemote} }},
		{Kind: KindDegrade, Name: "reclaim-first", Doc: "Flush every CPU cache back to the slabs and merge, retry the refill, then Tier-2.",
			build: func(Values) any { return simpleDegrade{name: "reclaim-first", action: sbmp.DegradeReclaimFirst} }},
		{Kind: KindDegrade, Name: "fail-fast", Doc: "Fail the allocation: the caller sees the exhaustion at once.",
			build: func(Values) any { return simpleDegrade{name: "fail-fast", action: sbmp.DegradeFail} }},
	})
}

type simpleDegrade struct {
	name   string
	action sbmp.DegradeAction
}

func (p simpleDegrade) Name() string { return p.name }
func (p simpleDegrade) OnExhausted(sbmp.DegradeState) sbmp.DegradeDecision {
	return sbmp.DegradeDecision{Action: p.action}
}

type waitRefill struct{ waitNs, maxNs int64 }

func (waitRefill) Name() string { return "wait-refill" }

// OnExhausted waits while the stall so far (attempts x wait) stays within
// the bound.
func (p waitRefill) OnExhausted(s sbmp.DegradeState) sbmp.DegradeDecision {
	if int64(s.Attempt+1)*p.waitNs <= p.maxNs {
		return sbmp.DegradeDecision{Action: sbmp.DegradeWait, WaitNs: p.waitNs}
	}
	return sbmp.DegradeDecision{Action: sbmp.DegradeTier2}
}
