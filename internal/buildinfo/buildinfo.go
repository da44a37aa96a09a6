// Package buildinfo says which build of sbmpsim made an output: the module
// version, the VCS revision and dirty flag that `go build` stamps into the
// binary (debug.ReadBuildInfo), and the Go version. Every output that the
// determinism contract covers records it, so two files can be told apart
// by the build that wrote them and tools (sweep resume, merge) can refuse
// to mix runs of different builds.
//
// A test binary carries no VCS stamp (go test does not stamp it) and its
// module version is "(devel)", so outputs written by tests record only the
// module path, "(devel)" and the Go version.
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Version identifies a build.
type Version struct {
	// Module is the main module's path.
	Module string `json:"module"`
	// Version is the main module's version: a tag or pseudo-version when
	// built with `go install module@version`, "(devel)" when built from
	// a checkout.
	Version string `json:"version"`
	// Revision is the VCS commit the binary was built from (vcs.revision),
	// empty when the build carries no VCS stamp.
	Revision string `json:"revision,omitempty"`
	// Modified is true when the checkout had uncommitted changes
	// (vcs.modified).
	Modified bool `json:"modified,omitempty"`
	// Go is the Go toolchain that built the binary.
	Go string `json:"go"`
}

// String is the one-line form `sbmpsim version` prints first.
func (v Version) String() string {
	s := fmt.Sprintf("%s %s", v.Module, v.Version)
	if v.Revision != "" {
		s += " rev " + v.Revision[:min(12, len(v.Revision))]
		if v.Modified {
			s += "+dirty"
		}
	}
	return s + " " + v.Go
}

// current is the running binary's version, read once at start-up.
var current = read()

// Current returns the running binary's version.
func Current() Version { return current }

func read() Version {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Version{Module: "unknown", Version: "unknown", Go: "unknown"}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Version {
	v := Version{Module: bi.Main.Path, Version: bi.Main.Version, Go: bi.GoVersion}
	if v.Module == "" {
		// A test binary's main package is the test, not the module.
		v.Module = "github.com/sbmpsim/sbmpsim"
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}
