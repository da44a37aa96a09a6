package canon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

// ManifestName is the manifest's file name in the notebooks directory.
const ManifestName = "MANIFEST.json"

// ManifestSchema names the version of the manifest's layout.
const ManifestSchema = "sbmpsim.notebooks-manifest/v1"

// TimingName is the file beside the manifest where `experiment run`
// keeps the wall time of each experiment's last run on this machine: not
// deterministic, so neither in the manifest nor checked against it.
const TimingName = "timing.json"

// ReportName is the report's file name in the notebooks directory.
const ReportName = "index.html"

// Modes of an experiment's outputs.
const (
	ModeQuick = "quick"
	ModeFull  = "full"
)

// Mode is ModeQuick or ModeFull.
func Mode(quick bool) string {
	if quick {
		return ModeQuick
	}
	return ModeFull
}

// Manifest is MANIFEST.json: what produced every file of the notebooks
// directory, and each file's hash. Its bytes are a function of the files
// and the inputs, except Version, which names the build that last wrote
// it; the checks ignore Version, as they ignore index.html's build line.
type Manifest struct {
	// Schema is "sbmpsim.notebooks-manifest/v1".
	Schema string `json:"schema"`
	// Version is the build that last wrote the manifest (`sbmpsim
	// version`'s first line); the checks ignore it.
	Version string `json:"version"`
	// Experiments are the canonical experiments' directories, by name.
	Experiments map[string]*ExperimentEntry `json:"experiments"`
	// Report is index.html, assembled from the sections.
	Report *ReportEntry `json:"report,omitempty"`
	// Validation is the validation/ directory, written by `validate real`.
	Validation *ValidationEntry `json:"validation,omitempty"`
}

// FileEntry is one file's SHA-256 (hex) and size in bytes.
type FileEntry struct {
	// SHA256 is the hash of the file's bytes, in hex.
	SHA256 string `json:"sha256"`
	// Size is the file's length in bytes.
	Size int64 `json:"size"`
}

// ExperimentEntry records one experiment's directory.
type ExperimentEntry struct {
	// Mode is "quick" or "full": which version of the experiment wrote
	// the files.
	Mode string `json:"mode"`
	// Command regenerates the directory.
	Command string `json:"command"`
	// Runs counts the inputs' runs.
	Runs int `json:"runs"`
	// SimNs is their simulated time, summed over the runs.
	SimNs int64 `json:"sim_ns"`
	// Inputs are the scenarios and seeds it ran.
	Inputs []InputEntry `json:"inputs"`
	// Files are the files it wrote, by name.
	Files map[string]FileEntry `json:"files"`
	// Quick, on a full entry, is what the quick version of the same
	// experiment wrote when the same build ran it right after the full
	// run. CI cannot rerun a full run (hours); it reruns the quick one and
	// compares it with these hashes, so a change to the models that would
	// change the full run's numbers fails CI until the full run is redone.
	// Nil on a quick entry, whose Files CI compares directly.
	Quick *QuickEntry `json:"quick,omitempty"`
}

// QuickEntry is a full entry's record of its quick version's outputs.
type QuickEntry struct {
	// Command regenerates the quick version.
	Command string `json:"command"`
	// Files are the files the quick version wrote, by name.
	Files map[string]FileEntry `json:"files"`
}

// NewQuickEntry records the files o, the quick version of an
// experiment, wrote.
func NewQuickEntry(o *Out) *QuickEntry {
	files := map[string]FileEntry{}
	for name, data := range o.Files() {
		files[name] = fileEntry(data)
	}
	return &QuickEntry{Command: ExperimentCommand(o.exp.Name, true), Files: files}
}

// QuickDiff compares the files o (the quick version, rerun) wrote with
// the quick hashes e recorded, by name; "" when they agree.
func QuickDiff(e *ExperimentEntry, o *Out) string {
	if e.Quick == nil {
		return "the full entry has no quick hashes: rerun 'sbmpsim experiment run " + o.exp.Name + "' (full), which records them"
	}
	d := diffFiles(e.Quick.Files, NewQuickEntry(o).Files, diffWords{"recorded, no longer written", "recorded", "written, not recorded"})
	return strings.Join(d, "\n")
}

// diffWords are what diffFiles says of a file recorded and not found,
// who recorded a file whose hash differs, and of a file found and not
// recorded.
type diffWords struct{ missing, recorder, extra string }

// diffFiles compares the files found with those recorded, and returns a
// line for each that differs, recorded files first, in name order.
func diffFiles(recorded, found map[string]FileEntry, w diffWords) []string {
	var d []string
	for _, name := range slices.Sorted(maps.Keys(recorded)) {
		g, ok := found[name]
		switch {
		case !ok:
			d = append(d, name+": "+w.missing)
		case g != recorded[name]:
			d = append(d, fmt.Sprintf("%s: sha256 %s, %d bytes; %s %s, %d bytes", name, g.SHA256, g.Size, w.recorder, recorded[name].SHA256, recorded[name].Size))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(found)) {
		if _, ok := recorded[name]; !ok {
			d = append(d, name+": "+w.extra)
		}
	}
	return d
}

// ReportEntry records index.html. The page names the build that wrote
// it (BuildLine), so it carries a second hash without that line, which
// is what a rebuild by another build reproduces.
type ReportEntry struct {
	FileEntry
	// SHA256WithoutBuildLine is the hash of the page without its line
	// naming the build (`<p class="build">Written by sbmpsim ...</p>`).
	SHA256WithoutBuildLine string `json:"sha256_without_build_line"`
}

// ValidationEntry records the validation's directory: real runs on the
// host that ran Command, so not reproducible byte for byte and never
// rerun by `experiment run`.
type ValidationEntry struct {
	// Command is the command that wrote the directory.
	Command string `json:"command"`
	// Source says where the numbers come from.
	Source string `json:"source"`
	// Files are the directory's files, by name.
	Files map[string]FileEntry `json:"files"`
}

// validationSource is ValidationEntry.Source.
const validationSource = "real runs on the host that ran the command, against simulations of the same cases; not deterministic, not rerun by experiment run"

// ExperimentCommand is the command that regenerates an experiment.
func ExperimentCommand(name string, quick bool) string {
	if quick {
		return "sbmpsim experiment run " + name + " --quick"
	}
	return "sbmpsim experiment run " + name
}

// NewExperimentEntry records what o (run by RunExperiment) wrote and ran.
func NewExperimentEntry(o *Out, quick bool) (*ExperimentEntry, error) {
	files := map[string]FileEntry{}
	for name, data := range o.Files() {
		files[name] = fileEntry(data)
	}
	return newEntry(o.exp.Name, quick, o.Inputs(), files)
}

func newEntry(name string, quick bool, inputs []Input, files map[string]FileEntry) (*ExperimentEntry, error) {
	ins, err := InputEntries(inputs)
	if err != nil {
		return nil, fmt.Errorf("experiment %s: %w", name, err)
	}
	e := &ExperimentEntry{Mode: Mode(quick), Command: ExperimentCommand(name, quick), Inputs: ins, Files: files}
	for _, in := range ins {
		e.Runs += in.Runs
		e.SimNs += int64(in.Runs) * in.SimNs
	}
	return e, nil
}

func fileEntry(data []byte) FileEntry {
	sum := sha256.Sum256(data)
	return FileEntry{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
}

// dirFiles hashes the regular files of dir. A subdirectory is an error:
// nothing writes one.
func dirFiles(dir string) (map[string]FileEntry, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string]FileEntry{}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file; the notebooks directory holds files only", filepath.Join(dir, e.Name()))
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = fileEntry(data)
	}
	return files, nil
}

// regenerate matches the command Out.Cmd writes into a README.md.
var regenerate = regexp.MustCompile("(?m)^Regenerate:\n\n```sh\n(.*)\n```")

// RegenerateCommand is the command a README.md written by Out says
// regenerates its directory, without the comment after it.
func RegenerateCommand(readme []byte) (string, bool) {
	m := regenerate.FindSubmatch(readme)
	if m == nil {
		return "", false
	}
	cmd, _, _ := strings.Cut(string(m[1]), "#")
	return strings.TrimSpace(cmd), true
}

// ExperimentEntryFromDisk records the directory root/NAME of x as it is:
// the files on disk, the mode its README's command names, and the
// inputs x's Plan lists for that mode (the files' own run is not at
// hand). It is how a manifest is rebuilt without rerunning.
func ExperimentEntryFromDisk(root string, x Experiment) (*ExperimentEntry, error) {
	dir := filepath.Join(root, x.Name)
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		return nil, err
	}
	cmd, ok := RegenerateCommand(readme)
	if !ok {
		return nil, fmt.Errorf("%s: no \"Regenerate:\" command to tell the mode from", filepath.Join(dir, "README.md"))
	}
	quick := slices.Contains(strings.Fields(cmd), "--quick")
	if x.Plan == nil {
		return nil, fmt.Errorf("experiment %s has no Plan", x.Name)
	}
	inputs, err := x.Plan(NewEnv(context.Background(), quick, 1))
	if err != nil {
		return nil, fmt.Errorf("experiment %s: plan: %w", x.Name, err)
	}
	files, err := dirFiles(dir)
	if err != nil {
		return nil, err
	}
	return newEntry(x.Name, quick, inputs, files)
}

// ValidationEntryFromDisk records root/validation as it is, with the
// command its README names.
func ValidationEntryFromDisk(root string) (*ValidationEntry, error) {
	dir := filepath.Join(root, ValidationSection().Name)
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		return nil, err
	}
	cmd, ok := RegenerateCommand(readme)
	if !ok {
		return nil, fmt.Errorf("%s: no \"Regenerate:\" command", filepath.Join(dir, "README.md"))
	}
	return NewValidationEntry(root, cmd)
}

// NewValidationEntry records root/validation as written by cmd.
func NewValidationEntry(root, cmd string) (*ValidationEntry, error) {
	files, err := dirFiles(filepath.Join(root, ValidationSection().Name))
	if err != nil {
		return nil, err
	}
	return &ValidationEntry{Command: cmd, Source: validationSource, Files: files}, nil
}

// reportEntry records root/index.html; nil when there is none.
func reportEntry(root string) (*ReportEntry, error) {
	page, err := os.ReadFile(filepath.Join(root, ReportName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &ReportEntry{FileEntry: fileEntry(page), SHA256WithoutBuildLine: fileEntry(WithoutBuildLine(page)).SHA256}, nil
}

// buildLine matches the line BuildLine writes.
var buildLine = regexp.MustCompile(`(?m)^<p class="build">Written by sbmpsim .*</p>\n`)

// WithoutBuildLine is a report page without the line naming the build
// that wrote it.
func WithoutBuildLine(page []byte) []byte { return buildLine.ReplaceAll(page, nil) }

// ReadManifest reads root/MANIFEST.json. A missing file is an error
// satisfying errors.Is(err, os.ErrNotExist).
func ReadManifest(root string) (*Manifest, error) {
	path := filepath.Join(root, ManifestName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Schema != ManifestSchema {
		return nil, fmt.Errorf("%s: schema %q, want %q", path, m.Schema, ManifestSchema)
	}
	if m.Experiments == nil {
		m.Experiments = map[string]*ExperimentEntry{}
	}
	return &m, nil
}

// Encode is the manifest's bytes: indented JSON, keys in a fixed order.
func (m *Manifest) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// UpdateManifest changes root/MANIFEST.json with change (starting from
// an empty manifest when there is none), records root/index.html as it
// now is and the running build, and writes it atomically. An unreadable
// manifest is an error, not overwritten.
func UpdateManifest(root string, change func(m *Manifest) error) error {
	m, err := ReadManifest(root)
	if errors.Is(err, os.ErrNotExist) {
		m, err = &Manifest{Experiments: map[string]*ExperimentEntry{}}, nil
	}
	if err != nil {
		return err
	}
	if err := change(m); err != nil {
		return err
	}
	return WriteManifest(root, m)
}

// WriteManifest writes m as root/MANIFEST.json with the schema, the
// running build and root/index.html as it now is.
func WriteManifest(root string, m *Manifest) error {
	m.Schema = ManifestSchema
	m.Version = buildinfo.Current().String()
	r, err := reportEntry(root)
	if err != nil {
		return err
	}
	m.Report = r
	b, err := m.Encode()
	if err != nil {
		return err
	}
	return output.WriteFileAtomic(filepath.Join(root, ManifestName), b)
}

// WithoutBuild is a copy of m without what depends on the build that
// wrote it rather than on the experiments: Version, and index.html's
// own hash and size (its hash without the build line stays).
func (m *Manifest) WithoutBuild() *Manifest {
	c := *m
	c.Version = ""
	if m.Report != nil {
		r := *m.Report
		r.FileEntry = FileEntry{}
		c.Report = &r
	}
	return &c
}

// CheckManifest compares root with its MANIFEST.json: every file under
// root must be recorded with its hash and size, and every recorded file
// must be there (MANIFEST.json and timing.json aside). It returns each
// difference, naming the file, in a fixed order.
func CheckManifest(root string) ([]string, error) {
	m, err := ReadManifest(root)
	if err != nil {
		return nil, err
	}
	want := map[string]FileEntry{}
	for name, e := range m.Experiments {
		for f, fe := range e.Files {
			want[name+"/"+f] = fe
		}
	}
	if m.Validation != nil {
		for f, fe := range m.Validation.Files {
			want[ValidationSection().Name+"/"+f] = fe
		}
	}
	if m.Report != nil {
		want[ReportName] = m.Report.FileEntry
	}
	got, err := treeFiles(root)
	if err != nil {
		return nil, err
	}
	problems := diffFiles(want, got, diffWords{"in the manifest, not on disk", "the manifest says", "on disk, not in the manifest"})
	for _, name := range slices.Sorted(maps.Keys(m.Experiments)) {
		if e := m.Experiments[name]; e.Mode == ModeFull && e.Quick == nil {
			problems = append(problems, name+"/: a full run without its quick version's hashes, so CI cannot tell whether it is stale; rerun 'sbmpsim experiment run "+name+"'")
		}
	}
	return problems, nil
}

// treeFiles hashes every file under root, by slash-separated path, but
// the manifest and the timing file.
func treeFiles(root string) (map[string]FileEntry, error) {
	files := map[string]FileEntry{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == ManifestName || rel == TimingName {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[rel] = fileEntry(data)
		return nil
	})
	return files, err
}
