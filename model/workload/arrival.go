package workload

import (
	"fmt"
	"math"
	"sort"

	"github.com/sbmpsim/sbmpsim/sim"
)

// HorizonNs is the end of simulated time for arrivals (2⁶² ns, about 146
// years): an arrival that would come at or after it is reported as "no
// more arrivals", so no arrival time overflows int64.
//
// Arrival processes run on a float64 clock in ns and round each arrival
// up to a whole ns, so arrival times are exact to the ns only below 2⁵³
// ns (about 104 days); past that the float64 spacing exceeds 1 ns and
// arrivals start to bunch.
const HorizonNs int64 = 1 << 62

// MaxRatePerS bounds every rate, load included: one arrival per ns, the
// time resolution. Rates near it are distorted by the rule that each
// arrival comes at least 1 ns after the one before (gaps below 1 ns are
// stretched), so keep rates well below it, say under 10⁸/s.
const MaxRatePerS = 1e9

// maxPhases bounds a phase schedule's length.
const maxPhases = 1 << 16

type arrivalKind uint8

const (
	arrivalPoisson arrivalKind = iota + 1
	arrivalMMPP
	arrivalDiurnal
	arrivalPhases
)

// MMPPParams are the parameters of NewMMPP.
type MMPPParams struct {
	// RateLowPerS and RateHighPerS are the arrival rates in the two
	// states; 0 <= RateLowPerS <= RateHighPerS, RateHighPerS > 0.
	RateLowPerS, RateHighPerS float64
	// MeanLowNs and MeanHighNs are the mean times spent in each state per
	// visit (exponential sojourns); > 0.
	MeanLowNs, MeanHighNs float64
}

// DiurnalParams are the parameters of NewDiurnal: the rate at time t is
// MeanRatePerS·(1 + Amplitude·sin(2π·t/PeriodNs + PhaseRad)), where t is
// the simulated time in ns (not the time since the process started), as
// phase start times are.
type DiurnalParams struct {
	// MeanRatePerS is the rate averaged over a period; > 0.
	MeanRatePerS float64
	// Amplitude is the relative swing, 0 <= Amplitude <= 1 (1: the rate
	// touches 0 once a period).
	Amplitude float64
	// PeriodNs is the period, > 0 (a day is 86.4e12).
	PeriodNs float64
	// PhaseRad shifts the sine; any finite value.
	PhaseRad float64
}

// Phase is one step of a piecewise-constant schedule: from StartNs until
// the next phase's start, arrivals come at RatePerS (0: none).
type Phase struct {
	StartNs  int64
	RatePerS float64
}

// Arrivals generates the arrival times of one workload's allocations: a
// point process on the simulated clock, advanced by Next. Build one with
// NewPoisson, NewMMPP, NewDiurnal or NewPhases, and scale its rates with
// WithLoad; the zero Arrivals is not usable.
//
// An Arrivals holds the process's state (its clock, the MMPP state, the
// current phase), so it belongs to one workload and is not safe for
// concurrent use. The draws come from the stream passed to Next; the same
// stream state and the same calls give the same arrivals.
type Arrivals struct {
	kind arrivalKind
	load float64
	// The parameters as given (rates per second, load not applied), for
	// WithLoad and String.
	ratePerS float64
	mmpp     MMPPParams
	diurnal  DiurnalParams
	phases   []Phase // shared between loads: never written after build

	// Derived from the parameters with the load applied.
	gapNs       float64    // poisson: mean gap; diurnal: mean gap at the peak rate
	stateGapNs  [2]float64 // mmpp: mean gap in each state; +Inf for rate 0
	sojournNs   [2]float64 // mmpp: mean sojourn in each state
	highBelow   uint64     // mmpp: start high if a Uint64 is below this
	amplitude   float64    // diurnal
	omega       float64    // diurnal: 2π / period, radians per ns
	phaseRad    float64    // diurnal
	phaseNs     []float64  // phases: starts; phaseNs[0] == 0
	phasePerNs  []float64  // phases: rates per ns, load applied
	meanPerNs   float64    // poisson, diurnal: mean rate; mmpp: stationary rate
	meanPerSRaw float64    // mean rate per second before the load, for String

	// The process's state.
	started  bool
	done     bool
	clockNs  float64 // the exact (unrounded) time of the last arrival, or of the start
	lastNs   int64   // the last arrival returned
	high     int     // mmpp: 0 in the low state, 1 in the high
	switchNs float64 // mmpp: when the state next changes
	phase    int     // phases: index of the phase clockNs is in
}

// NewPoisson returns a homogeneous Poisson process with rate ratePerS.
func NewPoisson(ratePerS float64) (*Arrivals, error) {
	return build(&Arrivals{kind: arrivalPoisson, ratePerS: ratePerS, load: 1})
}

// NewMMPP returns a two-state Markov-modulated Poisson process: arrivals
// at RateLowPerS or RateHighPerS while a hidden state alternates low,
// high, low, ... with exponential sojourns of means MeanLowNs and
// MeanHighNs. It is bursty (index of dispersion > 1 when the rates
// differ) with long-run rate (RateLowPerS·MeanLowNs +
// RateHighPerS·MeanHighNs) / (MeanLowNs + MeanHighNs).
//
// The state at the first Next is drawn from the stationary distribution
// (high with probability MeanHighNs / (MeanLowNs + MeanHighNs)), so the
// expected rate is the long-run rate from the start, and MeanRate is
// exact for every window. Simulation is exact: within a state, arrivals
// are Poisson, and a gap that would cross a state change is discarded
// and redrawn from the change (memorylessness).
func NewMMPP(p MMPPParams) (*Arrivals, error) {
	return build(&Arrivals{kind: arrivalMMPP, mmpp: p, load: 1})
}

// NewDiurnal returns a non-homogeneous Poisson process with the
// sinusoidal rate DiurnalParams describes, simulated exactly by thinning
// (Lewis and Shedler): candidates come at the peak rate
// MeanRatePerS·(1 + Amplitude), and each is kept with probability
// rate(t)/peak. A draw costs 1 + Amplitude candidates on average, each an
// exponential, a uniform and a sine.
func NewDiurnal(p DiurnalParams) (*Arrivals, error) {
	return build(&Arrivals{kind: arrivalDiurnal, diurnal: p, load: 1})
}

// NewPhases returns a non-homogeneous Poisson process with a
// piecewise-constant rate: phases[i].RatePerS from phases[i].StartNs to
// phases[i+1].StartNs, and the last phase's rate forever after. Before
// the first phase's start the rate is 0. Starts are >= 0 and strictly
// increasing; rates are >= 0 (0 is silence). If the last rate is 0, Next
// reports no more arrivals once the schedule has run out.
//
// Simulation is exact, by inversion of the integrated rate: one unit
// exponential per arrival, spent across phase boundaries at each phase's
// rate. The schedule (up to 2¹⁶ phases) is copied.
func NewPhases(phases []Phase) (*Arrivals, error) {
	if len(phases) == 0 {
		return nil, fmt.Errorf("phases: the schedule is empty; give at least one phase")
	}
	if len(phases) > maxPhases {
		return nil, fmt.Errorf("phases: %d phases, more than the limit %d", len(phases), maxPhases)
	}
	return build(&Arrivals{kind: arrivalPhases, phases: append([]Phase(nil), phases...), load: 1})
}

// WithLoad returns a fresh copy of a's process (in its initial state,
// whatever a has drawn) with every rate multiplied by load, for load
// sweeps. load is > 0 and replaces a's load rather than compounding with
// it. The scaled rates must stay within MaxRatePerS.
func (a *Arrivals) WithLoad(load float64) (*Arrivals, error) {
	if !(load > 0) || math.IsInf(load, 0) {
		return nil, fmt.Errorf("load: must be > 0 and finite, got %v", load)
	}
	return build(&Arrivals{
		kind:     a.kind,
		load:     load,
		ratePerS: a.ratePerS,
		mmpp:     a.mmpp,
		diurnal:  a.diurnal,
		phases:   a.phases,
	})
}

// Load returns the multiplier WithLoad set (1 if it was not called).
func (a *Arrivals) Load() float64 { return a.load }

// build validates a's parameters and fills in the derived fields.
func build(a *Arrivals) (*Arrivals, error) {
	var err error
	switch a.kind {
	case arrivalPoisson:
		err = a.buildPoisson()
	case arrivalMMPP:
		err = a.buildMMPP()
	case arrivalDiurnal:
		err = a.buildDiurnal()
	case arrivalPhases:
		err = a.buildPhases()
	default:
		err = fmt.Errorf("arrivals: unset process; build one with NewPoisson, NewMMPP, NewDiurnal or NewPhases")
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Arrivals) buildPoisson() error {
	if err := checkRate("poisson", "rate_per_s", a.ratePerS, a.load, false); err != nil {
		return err
	}
	a.meanPerSRaw = a.ratePerS
	a.meanPerNs = a.ratePerS * a.load / 1e9
	a.gapNs = 1 / a.meanPerNs
	return nil
}

func (a *Arrivals) buildMMPP() error {
	p := a.mmpp
	if err := checkRate("mmpp", "rate_low_per_s", p.RateLowPerS, a.load, true); err != nil {
		return err
	}
	if err := checkRate("mmpp", "rate_high_per_s", p.RateHighPerS, a.load, false); err != nil {
		return err
	}
	if p.RateHighPerS < p.RateLowPerS {
		return fmt.Errorf("mmpp: rate_high_per_s %v is below rate_low_per_s %v; swap them", p.RateHighPerS, p.RateLowPerS)
	}
	if err := checkNs("mmpp", "mean_low_ns", p.MeanLowNs); err != nil {
		return err
	}
	if err := checkNs("mmpp", "mean_high_ns", p.MeanHighNs); err != nil {
		return err
	}
	for i, r := range [2]float64{p.RateLowPerS, p.RateHighPerS} {
		a.stateGapNs[i] = math.Inf(1)
		if r > 0 {
			a.stateGapNs[i] = 1e9 / (r * a.load)
		}
	}
	a.sojournNs = [2]float64{p.MeanLowNs, p.MeanHighNs}
	pHigh := p.MeanHighNs / (p.MeanLowNs + p.MeanHighNs)
	a.highBelow = fractionThreshold(pHigh)
	a.meanPerSRaw = float64((1-pHigh)*p.RateLowPerS) + float64(pHigh*p.RateHighPerS)
	a.meanPerNs = a.meanPerSRaw * a.load / 1e9
	return nil
}

func (a *Arrivals) buildDiurnal() error {
	p := a.diurnal
	// The peak rate, not the mean, must stay within MaxRatePerS.
	if err := checkRate("diurnal", "mean_rate_per_s", p.MeanRatePerS, a.load*(1+max(0, p.Amplitude)), false); err != nil {
		return err
	}
	if !(p.Amplitude >= 0 && p.Amplitude <= 1) {
		return fmt.Errorf("diurnal: amplitude must be in [0, 1], got %v", p.Amplitude)
	}
	if !(p.PeriodNs > 0) || math.IsInf(p.PeriodNs, 0) {
		return fmt.Errorf("diurnal: period_ns must be > 0 and finite, got %v", p.PeriodNs)
	}
	if math.IsNaN(p.PhaseRad) || math.IsInf(p.PhaseRad, 0) {
		return fmt.Errorf("diurnal: phase_rad must be finite, got %v", p.PhaseRad)
	}
	a.meanPerSRaw = p.MeanRatePerS
	a.meanPerNs = p.MeanRatePerS * a.load / 1e9
	a.gapNs = 1 / (a.meanPerNs * (1 + p.Amplitude))
	a.amplitude = p.Amplitude
	a.omega = 2 * math.Pi / p.PeriodNs
	a.phaseRad = p.PhaseRad
	return nil
}

func (a *Arrivals) buildPhases() error {
	for i, ph := range a.phases {
		if ph.StartNs < 0 || ph.StartNs >= HorizonNs {
			return fmt.Errorf("phases: phase %d: start_ns must be in [0, %d), got %d", i, HorizonNs, ph.StartNs)
		}
		if i > 0 && ph.StartNs <= a.phases[i-1].StartNs {
			return fmt.Errorf("phases: phase %d: start_ns %d is not after phase %d's %d; starts must increase",
				i, ph.StartNs, i-1, a.phases[i-1].StartNs)
		}
		if err := checkRate("phases", fmt.Sprintf("phase %d: rate_per_s", i), ph.RatePerS, a.load, true); err != nil {
			return err
		}
	}
	// A silent phase from 0 to the first start makes phaseNs[0] == 0, so
	// every time >= 0 is in some phase.
	n := len(a.phases)
	if a.phases[0].StartNs > 0 {
		a.phaseNs = append(make([]float64, 0, n+1), 0)
		a.phasePerNs = append(make([]float64, 0, n+1), 0)
	}
	for _, ph := range a.phases {
		a.phaseNs = append(a.phaseNs, float64(ph.StartNs))
		a.phasePerNs = append(a.phasePerNs, ph.RatePerS*a.load/1e9)
	}
	a.meanPerSRaw = a.phases[n-1].RatePerS
	return nil
}

// checkRate checks a rate parameter: finite, > 0 (>= 0 if zeroOK), and
// within MaxRatePerS once multiplied by scale.
func checkRate(what, param string, ratePerS, scale float64, zeroOK bool) error {
	ok := ratePerS > 0 || zeroOK && ratePerS == 0
	if !ok || math.IsInf(ratePerS, 0) {
		bound := "> 0"
		if zeroOK {
			bound = ">= 0"
		}
		return fmt.Errorf("%s: %s must be %s and finite, got %v", what, param, bound, ratePerS)
	}
	if ratePerS*scale > MaxRatePerS {
		return fmt.Errorf("%s: %s %v times load %v is %v, above the limit %v (one arrival per ns)",
			what, param, ratePerS, scale, ratePerS*scale, MaxRatePerS)
	}
	return nil
}

// Next returns the time of the next arrival, in ns: at or after nowNs
// and at least 1 ns after the arrival Next returned before. ok is false
// when there are no more arrivals (a phase schedule that ends in silence,
// or HorizonNs reached); every later call then returns false too.
//
// The process starts at the first call's nowNs: there are no arrivals
// before it. A later call with nowNs past the last arrival (say, a
// workload paused) skips the process ahead to nowNs, evolving an MMPP's
// state over the gap, so arrivals between the last one and nowNs are not
// generated. The usual call passes the time of the arrival being
// handled, which is the last one returned.
func (a *Arrivals) Next(r *sim.Stream, nowNs int64) (atNs int64, ok bool) {
	if a.done {
		return 0, false
	}
	if !a.started {
		a.start(r, nowNs)
	} else if nowNs > a.lastNs {
		// Compare with the last arrival returned, not the exact clock
		// below it: the usual call passes that arrival, rounded up, and
		// moving the clock to it would lose the fraction and slow the
		// process down.
		a.skipTo(r, float64(nowNs))
	}
	var more bool
	switch a.kind {
	case arrivalPoisson:
		a.clockNs += r.Exp(a.gapNs)
		more = true
	case arrivalMMPP:
		more = a.advanceMMPP(r)
	case arrivalDiurnal:
		more = a.advanceDiurnal(r)
	case arrivalPhases:
		more = a.advancePhases(r)
	default:
		panic("workload: Next on a zero Arrivals; build one with NewPoisson, NewMMPP, NewDiurnal or NewPhases")
	}
	if !more || a.clockNs >= float64(HorizonNs) {
		a.done = true
		return 0, false
	}
	// The clock keeps the exact time; rounding only the returned value
	// keeps the long-run rate exact however fine the gaps.
	atNs = max(int64(math.Ceil(a.clockNs)), a.lastNs+1, nowNs)
	a.lastNs = atNs
	return atNs, true
}

// start begins the process at nowNs.
func (a *Arrivals) start(r *sim.Stream, nowNs int64) {
	a.started = true
	a.clockNs = float64(nowNs)
	a.lastNs = nowNs - 1
	switch a.kind {
	case arrivalMMPP:
		a.high = 0
		if r.Uint64() < a.highBelow {
			a.high = 1
		}
		// By memorylessness the time left in a stationary state is
		// exponential with the state's mean sojourn.
		a.switchNs = a.clockNs + r.Exp(a.sojournNs[a.high])
	case arrivalPhases:
		a.seekPhase()
	}
}

// skipTo moves the process's clock forward to now without arrivals.
func (a *Arrivals) skipTo(r *sim.Stream, now float64) {
	a.clockNs = max(a.clockNs, now)
	switch a.kind {
	case arrivalMMPP:
		for a.switchNs <= now {
			a.high ^= 1
			a.switchNs += r.Exp(a.sojournNs[a.high])
		}
	case arrivalPhases:
		a.seekPhase()
	}
}

// seekPhase sets a.phase to the phase a.clockNs is in.
func (a *Arrivals) seekPhase() {
	// The first start after the clock, minus one; phaseNs[0] == 0 <= clock.
	a.phase = sort.SearchFloat64s(a.phaseNs, math.Nextafter(a.clockNs, math.Inf(1))) - 1
}

// advanceMMPP moves the clock to the next arrival.
func (a *Arrivals) advanceMMPP(r *sim.Stream) bool {
	for a.clockNs < float64(HorizonNs) {
		if gap := a.stateGapNs[a.high]; !math.IsInf(gap, 1) {
			if t := a.clockNs + r.Exp(gap); t < a.switchNs {
				a.clockNs = t
				return true
			}
		}
		// No arrival before the switch: go to it, change state, and
		// draw afresh (the part of the gap past the switch is
		// discarded, which memorylessness allows).
		a.clockNs = a.switchNs
		a.high ^= 1
		a.switchNs = a.clockNs + r.Exp(a.sojournNs[a.high])
	}
	return false
}

// advanceDiurnal moves the clock to the next arrival by thinning.
func (a *Arrivals) advanceDiurnal(r *sim.Stream) bool {
	peak := 1 + a.amplitude
	for a.clockNs < float64(HorizonNs) {
		a.clockNs += r.Exp(a.gapNs)
		if a.amplitude == 0 {
			return true
		}
		rel := 1 + float64(a.amplitude*math.Sin(float64(a.omega*a.clockNs)+a.phaseRad))
		if r.Float64()*peak < rel {
			return true
		}
	}
	return false
}

// advancePhases moves the clock to the next arrival by inversion: a unit
// exponential of integrated rate, spent phase by phase.
func (a *Arrivals) advancePhases(r *sim.Stream) bool {
	need := r.Exp(1)
	for {
		rate := a.phasePerNs[a.phase]
		end := math.Inf(1)
		if a.phase+1 < len(a.phaseNs) {
			end = a.phaseNs[a.phase+1]
		}
		if rate > 0 {
			if t := a.clockNs + need/rate; t < end {
				a.clockNs = t
				return true
			}
			need = max(0, need-float64(rate*(end-a.clockNs)))
		}
		if math.IsInf(end, 1) {
			// The last phase is silent: the schedule has run out.
			return false
		}
		a.clockNs = end
		a.phase++
	}
}

// MeanRate returns the expected number of arrivals in [t0Ns, t1Ns)
// divided by the window's length, per second, load included, for a
// process started at or before t0Ns: the exact integral of the rate for
// poisson, diurnal and phases, and the stationary rate for an MMPP. When
// t1Ns <= t0Ns it returns the expected rate at the instant t0Ns. It draws
// nothing and does not change the process.
func (a *Arrivals) MeanRate(t0Ns, t1Ns int64) float64 {
	switch a.kind {
	case arrivalPoisson, arrivalMMPP:
		return a.meanPerNs * 1e9
	case arrivalDiurnal:
		x0 := float64(a.omega*float64(t0Ns)) + a.phaseRad
		if t1Ns <= t0Ns {
			return a.meanPerNs * 1e9 * (1 + float64(a.amplitude*math.Sin(x0)))
		}
		x1 := float64(a.omega*float64(t1Ns)) + a.phaseRad
		// ∫ sin(ωt+φ) dt = -cos(ωt+φ)/ω.
		return a.meanPerNs * 1e9 * (1 + a.amplitude*(math.Cos(x0)-math.Cos(x1))/(x1-x0))
	case arrivalPhases:
		return a.phasesMeanRate(float64(t0Ns), float64(t1Ns))
	}
	return 0
}

// phasesMeanRate integrates the schedule over [t0, t1).
func (a *Arrivals) phasesMeanRate(t0, t1 float64) float64 {
	if t1 <= t0 {
		i := sort.SearchFloat64s(a.phaseNs, math.Nextafter(t0, math.Inf(1))) - 1
		return a.phasePerNs[max(i, 0)] * 1e9
	}
	var count float64
	for i, start := range a.phaseNs {
		end := math.Inf(1)
		if i+1 < len(a.phaseNs) {
			end = a.phaseNs[i+1]
		}
		if lo, hi := max(start, t0), min(end, t1); hi > lo {
			count += a.phasePerNs[i] * (hi - lo)
		}
	}
	return count / (t1 - t0) * 1e9
}

// String describes the process, for logs and errors.
func (a *Arrivals) String() string {
	var s string
	switch a.kind {
	case arrivalPoisson:
		s = fmt.Sprintf("poisson(%g/s)", a.ratePerS)
	case arrivalMMPP:
		p := a.mmpp
		s = fmt.Sprintf("mmpp(low %g/s for %.6g ns, high %g/s for %.6g ns)", p.RateLowPerS, p.MeanLowNs, p.RateHighPerS, p.MeanHighNs)
	case arrivalDiurnal:
		p := a.diurnal
		s = fmt.Sprintf("diurnal(mean %g/s, amplitude %g, period %.6g ns, phase %g rad)", p.MeanRatePerS, p.Amplitude, p.PeriodNs, p.PhaseRad)
	case arrivalPhases:
		s = fmt.Sprintf("phases(%d phases, last rate %g/s)", len(a.phases), a.meanPerSRaw)
	default:
		return "unset arrivals"
	}
	if a.load != 1 {
		s += fmt.Sprintf(" × load %g", a.load)
	}
	return s
}
