package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/output"
)

// MergeOutcome is what Merge did.
type MergeOutcome struct {
	Sweep string
	// Runs is the number of runs of the sweep, all now in the output.
	Runs int
	// Copied runs were written into the output; the others were there
	// already with the same bytes.
	Copied int
	// Duplicates counts runs found in more than one input, byte-identical.
	Duplicates int
}

// ConflictError is a run found in two inputs with different bytes: they
// cannot both be the run the plan names.
type ConflictError struct {
	ID           string
	PathA, PathB string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("run %s differs between %s and %s: the inputs were not made by the same sweep and binary", e.ID, e.PathA, e.PathB)
}

// Merge combines sweep directories (typically one per shard) into out:
// plan.json, every run file and the aggregate, byte-identical to what an
// unsharded `sbmpsim sweep --out` writes. The inputs must hold the same
// sweep (equal plan hashes, also in their shard manifests) and together
// every run; a run in several inputs must be byte-identical in all. out
// may be empty, new, one of the inputs, or an earlier merge of the same
// sweep. Errors name the directories and the missing or conflicting run
// ids; nothing is written to out unless the inputs are complete and
// consistent.
func Merge(out string, dirs []string) (MergeOutcome, error) {
	if len(dirs) == 0 {
		return MergeOutcome{}, errors.New("merge: no sweep directories given")
	}
	pf, shards, err := mergePlans(dirs)
	if err != nil {
		return MergeOutcome{}, err
	}
	res := MergeOutcome{Sweep: pf.Sweep, Runs: pf.Runs}
	sources, err := runSources(pf, dirs)
	if err != nil {
		return res, err
	}
	data := make([][]byte, pf.Runs)
	var missing []string
	for i := range pf.Runs {
		r := pf.Run(i)
		if len(sources[i]) == 0 {
			missing = append(missing, r.ID+shardOf(i, shards))
			continue
		}
		if data[i], err = readOne(sources[i], r, &res); err != nil {
			return res, err
		}
	}
	if len(missing) > 0 {
		return res, fmt.Errorf("merge: %d of %d runs of sweep %q are in none of %s: %s; run the shards that hold them again (sbmpsim sweep resumes)",
			len(missing), pf.Runs, pf.Sweep, strings.Join(dirs, ", "), listIDs(missing, 10))
	}
	if err := claimDir(out, pf); err != nil {
		return res, err
	}
	if _, err := removeTemps(out, func(string) bool { return true }); err != nil {
		return res, err
	}
	if err := copyRuns(out, pf, data, &res); err != nil {
		return res, err
	}
	return res, WriteAggregate(out, pf)
}

// mergePlans reads every input's plan.json and shard manifests and checks
// that they are of one sweep. It returns the plan and the shard count the
// manifests agree on (0 if none or they disagree).
func mergePlans(dirs []string) (*PlanFile, int, error) {
	var pf *PlanFile
	shards := -1
	for _, dir := range dirs {
		p, err := ReadPlanFile(dir)
		if err != nil {
			return nil, 0, fmt.Errorf("merge: %w", err)
		}
		if pf == nil {
			pf = p
		} else if p.Hash != pf.Hash {
			return nil, 0, fmt.Errorf("merge: %s holds sweep %q with hash %.12s but %s holds sweep %q with hash %.12s: not shards of one sweep",
				dirs[0], pf.Sweep, pf.Hash, dir, p.Sweep, p.Hash)
		}
		ms, err := readManifests(dir)
		if err != nil {
			return nil, 0, fmt.Errorf("merge: %w", err)
		}
		for _, m := range ms {
			if m.Hash != pf.Hash {
				return nil, 0, fmt.Errorf("merge: %s: shard %d/%d manifest is of sweep %q with hash %.12s, but the plan is hash %.12s",
					dir, m.Shard, m.Shards, m.Sweep, m.Hash, pf.Hash)
			}
			switch {
			case shards == -1:
				shards = m.Shards
			case shards != m.Shards:
				shards = 0
			}
		}
	}
	return pf, max(shards, 0), nil
}

// shardOf names the shard that holds run index i, when the shard count is
// known.
func shardOf(i, shards int) string {
	if shards < 1 {
		return ""
	}
	return fmt.Sprintf(" (shard %d/%d)", i%shards, shards)
}

// runSources lists, per run index, the run files of the inputs that hold
// it. A file in runs/ that is no run of the plan is an error; temporary
// files of killed runs are skipped.
func runSources(pf *PlanFile, dirs []string) ([][]string, error) {
	index := runIndex(pf)
	sources := make([][]string, pf.Runs)
	for _, dir := range dirs {
		entries, err := os.ReadDir(filepath.Join(dir, RunsDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("merge: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			i, ok := index[strings.TrimSuffix(name, ".json")]
			if !ok || !strings.HasSuffix(name, ".json") || e.IsDir() {
				return nil, fmt.Errorf("merge: %s is no run of sweep %q", filepath.Join(dir, RunsDir, name), pf.Sweep)
			}
			path := filepath.Join(dir, RunsDir, name)
			if !slices.ContainsFunc(sources[i], func(p string) bool { return sameFile(p, path) }) {
				sources[i] = append(sources[i], path)
			}
		}
	}
	return sources, nil
}

// sameFile reports whether a and b are one file (a directory given twice,
// or out among the inputs).
func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// readOne reads run r from its sources, checks that it is the run and
// that every copy is byte-identical, and returns its bytes.
func readOne(paths []string, r Run, res *MergeOutcome) ([]byte, error) {
	_, first, err := readRun(paths[0], r)
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	for _, p := range paths[1:] {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if !bytes.Equal(b, first) {
			return nil, &ConflictError{ID: r.ID, PathA: paths[0], PathB: p}
		}
		res.Duplicates++
	}
	return first, nil
}

// copyRuns writes every run's bytes into out/runs, leaving files that
// are there with the same bytes alone. The aggregate is removed first if
// anything is to change.
func copyRuns(out string, pf *PlanFile, data [][]byte, res *MergeOutcome) error {
	removed := false
	for i := range pf.Runs {
		r := pf.Run(i)
		dst := runPath(out, r.ID)
		have, err := os.ReadFile(dst)
		switch {
		case err == nil && bytes.Equal(have, data[i]):
			continue
		case err == nil:
			return &ConflictError{ID: r.ID, PathA: dst, PathB: "the inputs"}
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("merge: %w", err)
		}
		if !removed {
			if err := removeAggregate(out); err != nil {
				return err
			}
			removed = true
		}
		if err := output.WriteFileAtomic(dst, data[i]); err != nil {
			return err
		}
		res.Copied++
	}
	return nil
}
