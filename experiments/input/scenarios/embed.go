// Package scenarios holds the example scenario files shipped with sbmpsim and
// embeds them in the binary, so that `sbmpsim run` works with no file at hand
// and a scenario can be named instead of given as a path. The files are plain
// TOML; package experiments/input/scenario parses and validates them, and
// README.md in this directory documents every key.
package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
)

// Default is the name of the scenario that `sbmpsim run` runs when no
// scenario is given: the OOM-crisis chain of events of SPEC 1.3.
const Default = "oom-crisis"

// files holds every *.toml file of this directory and the data they
// read. It is read-only, so it is not package-level mutable state.
//
//go:embed *.toml data
var files embed.FS

// Format returns the scenario file format with the embedded scenarios.
func Format() tomlfile.Format { return tomlfile.Format{Noun: "scenario", Embedded: files} }

// OpenData opens a data file shipped with the scenarios (a trace, a size
// histogram), named as the scenarios name it: "data/NAME".
func OpenData(name string) (fs.File, error) {
	if !strings.HasPrefix(name, "data/") || !fs.ValidPath(name) {
		return nil, fmt.Errorf("embedded data %q: embedded scenarios name their files data/NAME", name)
	}
	return files.Open(name)
}

// Names returns the names of the embedded scenarios (file names without the
// .toml extension), sorted. The slice is freshly allocated on every call.
func Names() []string { return Format().Names() }

// Read returns the TOML text of the embedded scenario called name. A trailing
// ".toml" in name is accepted. The returned slice belongs to the caller.
func Read(name string) ([]byte, error) { return Format().ReadEmbedded(name) }

// Has reports whether an embedded scenario called name exists (a trailing
// ".toml" is accepted).
func Has(name string) bool { return Format().HasEmbedded(name) }
