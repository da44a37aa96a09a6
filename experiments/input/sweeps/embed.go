// Package sweeps holds the example sweep files shipped with sbmpsim and
// embeds them in the binary, so that `sbmpsim sweep NAME` works with no
// file at hand. The files are plain TOML; package experiments/sweep parses
// them, and README.md in this directory documents the format.
package sweeps

import (
	"embed"

	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
)

// files holds every *.toml file of this directory. It is read-only, so it
// is not package-level mutable state.
//
//go:embed *.toml
var files embed.FS

// Format returns the sweep file format with the embedded sweeps.
func Format() tomlfile.Format { return tomlfile.Format{Noun: "sweep", Embedded: files} }

// Names returns the names of the embedded sweeps (file names without the
// .toml extension), sorted. The slice is freshly allocated on every call.
func Names() []string { return Format().Names() }

// Read returns the TOML text of the embedded sweep called name. A trailing
// ".toml" in name is accepted. The returned slice belongs to the caller.
func Read(name string) ([]byte, error) { return Format().ReadEmbedded(name) }

// Has reports whether an embedded sweep called name exists (a trailing
// ".toml" is accepted).
func Has(name string) bool { return Format().HasEmbedded(name) }
