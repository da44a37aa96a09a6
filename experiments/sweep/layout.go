package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

// The files of a sweep directory:
//
//	plan.json            the resolved sweep (PlanFile); identical in every
//	                     directory of one sweep
//	runs/ID.json         one run's summary (sbmpsim.summary/v2; no wall-clock field)
//	shard-I-of-N.json    a finished shard's manifest (sharded runs only)
//	series/ID.csv        one run's time series (with --metrics only; merge
//	                     does not carry them)
//	metrics.om           every run's time series in OpenMetrics (with
//	                     --metrics, written before the aggregate)
//	sweep.csv            the aggregate, one row per point
//	sweep.json           the aggregate (sbmpsim.sweep/v2), written last:
//	                     a directory with a sweep.json holds a whole sweep
const (
	PlanName   = "plan.json"
	ReportName = "sweep.json"
	CSVName    = "sweep.csv"
	RunsDir    = "runs"
	SeriesDir  = "series"
	// MetricsName is the sweep's OpenMetrics file.
	MetricsName = "metrics.om"
)

// ManifestName is the file name of shard's manifest.
func ManifestName(s Shard) string {
	return fmt.Sprintf("shard-%d-of-%d.json", s.Index, s.Count)
}

// runPath is where run id's file lives in dir.
func runPath(dir, id string) string {
	return filepath.Join(dir, RunsDir, id+".json")
}

// seriesPath is where run id's time series lives in dir.
func seriesPath(dir, id string) string {
	return filepath.Join(dir, SeriesDir, id+".csv")
}

// encodeJSON is the one JSON encoding of every file a sweep writes:
// indented, with a final newline. Map keys come out sorted.
func encodeJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DirError says that a directory holds a different sweep than the one
// asked for.
type DirError struct {
	Dir        string
	Sweep      string // the sweep the directory holds
	Hash, Want string
}

func (e *DirError) Error() string {
	return fmt.Sprintf("%s holds sweep %q with hash %.12s, not this sweep (hash %.12s): the sweep file or its scenario changed since; use another --out or remove %s",
		e.Dir, e.Sweep, e.Hash, e.Want, e.Dir)
}

// ReadPlanFile reads dir/plan.json. A missing plan.json wraps
// fs.ErrNotExist.
func ReadPlanFile(dir string) (*PlanFile, error) {
	b, err := os.ReadFile(filepath.Join(dir, PlanName))
	if err != nil {
		return nil, fmt.Errorf("%s is not a sweep directory: %w", dir, err)
	}
	var pf PlanFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pf); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, PlanName), err)
	}
	if pf.Schema != PlanSchema {
		return nil, fmt.Errorf("read %s: schema %q, want %q", filepath.Join(dir, PlanName), pf.Schema, PlanSchema)
	}
	if pf.Seeds < 1 || len(pf.Points) == 0 || pf.Runs != len(pf.Points)*pf.Seeds || pf.Hash == "" {
		return nil, fmt.Errorf("read %s: inconsistent plan (%d points, %d seeds, %d runs)", filepath.Join(dir, PlanName), len(pf.Points), pf.Seeds, pf.Runs)
	}
	return &pf, nil
}

// claimDir makes dir a directory of plan pf: it creates dir and dir/runs,
// and writes plan.json unless the same plan is there already. A
// directory holding another sweep is a *DirError.
func claimDir(dir string, pf *PlanFile) error {
	if err := os.MkdirAll(filepath.Join(dir, RunsDir), 0o755); err != nil {
		return fmt.Errorf("create sweep directory: %w", err)
	}
	have, err := ReadPlanFile(dir)
	switch {
	case err == nil && have.Hash == pf.Hash:
		return nil
	case err == nil:
		return &DirError{Dir: dir, Sweep: have.Sweep, Hash: have.Hash, Want: pf.Hash}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	b, err := encodeJSON(pf)
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	return output.WriteFileAtomic(filepath.Join(dir, PlanName), b)
}

// readRun reads and checks the run file at path: a summary of the right
// schema for run's seed, made by this build (a sweep resumed or merged by
// another build would mix runs of two models). The bytes are returned as
// read.
func readRun(path string, run Run) (world.Summary, []byte, error) {
	var s world.Summary
	b, err := os.ReadFile(path)
	if err != nil {
		return s, nil, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, b, fmt.Errorf("%s: %w", path, err)
	}
	if s.Schema != world.SummarySchema || s.Seed != run.Seed {
		return s, b, fmt.Errorf("%s: not run %s (schema %q, seed %d; want %q, seed %d)", path, run.ID, s.Schema, s.Seed, world.SummarySchema, run.Seed)
	}
	if cur := buildinfo.Current(); s.Version != cur {
		return s, b, &VersionError{Path: path, Have: s.Version, Want: cur}
	}
	return s, b, nil
}

// VersionError reports a run file made by another build than the one
// resuming or merging the sweep.
type VersionError struct {
	Path       string
	Have, Want buildinfo.Version
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s: made by sbmpsim %s, not by this build (%s); runs of different builds do not mix: rerun the sweep into a new --out directory with one build", e.Path, e.Have, e.Want)
}

// tempRun returns the run id a temporary file of WriteFileAtomic in
// dir/runs or dir/series belongs to (".ID.json.tmp123" → "ID").
func tempRun(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok {
		return "", false
	}
	for _, ext := range []string{".json.tmp", ".csv.tmp"} {
		if id, _, ok := strings.Cut(rest, ext); ok {
			return id, true
		}
	}
	return "", false
}

// removeTemps removes the temporary files a killed sweep left behind in
// dir/runs and dir/series for the runs mine says are this shard's, and
// returns how many. Other shards sharing the directory may be writing
// theirs right now.
func removeTemps(dir string, mine func(id string) bool) (int, error) {
	n := 0
	for _, sub := range []string{RunsDir, SeriesDir} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, fs.ErrNotExist) && sub == SeriesDir {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("read %s: %w", filepath.Join(dir, sub), err)
		}
		for _, e := range entries {
			if id, ok := tempRun(e.Name()); ok && mine(id) {
				if err := os.Remove(filepath.Join(dir, sub, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return n, fmt.Errorf("remove stale temporary file: %w", err)
				}
				n++
			}
		}
	}
	return n, nil
}

// runIndex maps run ids to their index in pf's run order.
func runIndex(pf *PlanFile) map[string]int {
	m := make(map[string]int, pf.Runs)
	for i := range pf.Runs {
		m[pf.Run(i).ID] = i
	}
	return m
}

// Shard is one slice of a sweep's runs: those whose index i in the run
// order has i % Count == Index. The zero value is the whole sweep.
type Shard struct {
	Index, Count int
}

// MaxShards bounds the number of shards.
const MaxShards = 1_000_000

// ParseShard reads "I/N" (0 <= I < N), as --shard takes it.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, ierr := strconv.Atoi(strings.TrimSpace(is))
	n, nerr := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case !ok || ierr != nil || nerr != nil:
		return Shard{}, fmt.Errorf("shard %q: want I/N, such as 0/4 (shards are numbered from 0, as $SLURM_ARRAY_TASK_ID and $JOB_COMPLETION_INDEX are)", s)
	case n < 1 || n > MaxShards:
		return Shard{}, fmt.Errorf("shard %q: N must be 1..%d", s, MaxShards)
	case i < 0 || i >= n:
		return Shard{}, fmt.Errorf("shard %q: I must be 0..%d", s, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

// norm returns s with the zero value made explicit (0/1).
func (s Shard) norm() Shard {
	if s.Count == 0 {
		return Shard{0, 1}
	}
	return s
}

// Whole reports whether s is the whole sweep (0/1).
func (s Shard) Whole() bool { return s.norm().Count == 1 }

// Has reports whether run index i belongs to s.
func (s Shard) Has(i int) bool {
	s = s.norm()
	return i%s.Count == s.Index
}

func (s Shard) String() string {
	s = s.norm()
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// ManifestSchema names the version of a shard manifest's layout.
const ManifestSchema = "sbmpsim.sweep-shard/v1"

// Manifest is shard-I-of-N.json, written when a shard has all its runs:
// which sweep (Hash) and which of its runs.
type Manifest struct {
	Schema string   `json:"schema"`
	Sweep  string   `json:"sweep"`
	Hash   string   `json:"hash"`
	Shard  int      `json:"shard"`
	Shards int      `json:"shards"`
	Runs   int      `json:"runs"`
	RunIDs []string `json:"run_ids"`
}

// readManifests reads every shard-*-of-*.json in dir.
func readManifests(dir string) ([]Manifest, error) {
	names, err := filepath.Glob(filepath.Join(dir, "shard-*-of-*.json"))
	if err != nil {
		return nil, err
	}
	var out []Manifest
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var m Manifest
		if err := json.Unmarshal(b, &m); err != nil || m.Schema != ManifestSchema {
			return nil, fmt.Errorf("%s: not a shard manifest (%v)", name, err)
		}
		out = append(out, m)
	}
	return out, nil
}
