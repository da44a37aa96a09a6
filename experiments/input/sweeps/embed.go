// Package sweeps holds the example sweep files shipped with sbmpsim and
// embeds them in the binary, so that `sbmpsim sweep NAME` works with no
// file at hand. The files are plain TOML; package experiments/sweep parses
// them, and README.md in this directory documents the format.
package sweeps

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// files holds every *.toml file of this directory. It is read-only, so it
// is not package-level mutable state.
//
//go:embed *.toml
var files embed.FS

// Names returns the names of the embedded sweeps (file names without the
// .toml extension), sorted. The slice is freshly allocated on every call.
func Names() []string {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		// The embedded FS is fixed at build time; reading its root cannot fail.
		panic(fmt.Sprintf("sweeps: read embedded directory: %v", err))
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".toml"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Read returns the TOML text of the embedded sweep called name. A trailing
// ".toml" in name is accepted. The returned slice belongs to the caller.
func Read(name string) ([]byte, error) {
	base := strings.TrimSuffix(name, ".toml")
	if base == "" || strings.ContainsAny(base, `/\`) || base == "." || base == ".." {
		return nil, fmt.Errorf("embedded sweep %q: not a sweep name (known: %s)", name, strings.Join(Names(), ", "))
	}
	data, err := files.ReadFile(base + ".toml")
	if err != nil {
		return nil, fmt.Errorf("embedded sweep %q: no such sweep (known: %s)", name, strings.Join(Names(), ", "))
	}
	return data, nil
}

// Has reports whether an embedded sweep called name exists (a trailing
// ".toml" is accepted).
func Has(name string) bool {
	_, err := Read(name)
	return err == nil
}
