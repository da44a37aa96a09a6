// Package tomlfile is the file layer under sbmpsim's TOML inputs, the
// scenarios and the sweeps: it reads a file from a path or from the
// examples embedded in the binary (with a size cap), decodes it into a
// generic map, finds where each key is written, and reports problems as
// *Error values naming the file, line, column and key, with "did you
// mean" suggestions.
//
// BurntSushi/toml decodes; go-toml's unstable parser supplies the key
// positions BurntSushi keeps to itself (Scan). What the keys mean is the
// business of the scenario and sweep packages.
package tomlfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// MaxBytes bounds the size of an input file; larger input is refused
// before it is parsed.
const MaxBytes = 1 << 20

// EmbeddedPrefix marks the source of a file read from the binary
// ("embedded:oom-crisis"); given to Format.Read, it selects the embedded
// file even when a file of that name exists.
const EmbeddedPrefix = "embedded:"

// Format is one kind of input file: what its files are called in
// messages, and the examples of it shipped in the binary.
type Format struct {
	// Noun names a file of this format in messages: "scenario", "sweep".
	Noun string
	// Embedded holds the shipped files, NAME.toml at its root. Other
	// entries (a data directory) are ignored.
	Embedded fs.FS
}

// Names returns the names of the embedded files (without .toml), sorted.
// The slice is freshly allocated on every call.
func (f Format) Names() []string {
	entries, err := fs.ReadDir(f.Embedded, ".")
	if err != nil {
		// The embedded FS is fixed at build time; reading its root cannot fail.
		panic(fmt.Sprintf("%ss: read embedded directory: %v", f.Noun, err))
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

// ReadEmbedded returns the text of the embedded file called name; a
// trailing ".toml" is accepted. The returned slice belongs to the caller.
func (f Format) ReadEmbedded(name string) ([]byte, error) {
	base := strings.TrimSuffix(name, ".toml")
	if base == "" || strings.ContainsAny(base, `/\`) || base == "." || base == ".." {
		return nil, fmt.Errorf("embedded %s %q: not a %s name (known: %s)", f.Noun, name, f.Noun, strings.Join(f.Names(), ", "))
	}
	data, err := fs.ReadFile(f.Embedded, base+".toml")
	if err != nil {
		return nil, fmt.Errorf("embedded %s %q: no such %s (known: %s)", f.Noun, name, f.Noun, strings.Join(f.Names(), ", "))
	}
	return data, nil
}

// HasEmbedded reports whether an embedded file called name exists (a
// trailing ".toml" is accepted).
func (f Format) HasEmbedded(name string) bool {
	_, err := f.ReadEmbedded(name)
	return err == nil
}

// Read returns the text of the file at path and its source, path itself.
// When no file exists at path (or a directory does) and path names an
// embedded file
// ("oom-crisis", "oom-crisis.toml" or "embedded:oom-crisis"), that one is
// read instead, with source "embedded:NAME". A file larger than MaxBytes
// is an error.
func (f Format) Read(path string) (source string, data []byte, err error) {
	if name, ok := strings.CutPrefix(path, EmbeddedPrefix); ok {
		return f.readEmbedded(name)
	}
	data, err = readFile(path)
	// A directory is never the file asked for: a directory called
	// oom-crisis beside the user does not hide the embedded scenario.
	noFile := errors.Is(err, fs.ErrNotExist) || err != nil && isDir(path)
	if noFile && !strings.ContainsAny(path, `/\`) && f.HasEmbedded(path) {
		return f.readEmbedded(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("load %s %s: no such file, and no embedded %s of that name (embedded: %s)",
			f.Noun, path, f.Noun, strings.Join(f.Names(), ", "))
	}
	if err != nil {
		return "", nil, fmt.Errorf("load %s %s: %w", f.Noun, path, err)
	}
	return path, data, nil
}

func (f Format) readEmbedded(name string) (string, []byte, error) {
	data, err := f.ReadEmbedded(name)
	if err != nil {
		return "", nil, fmt.Errorf("load %s: %w", f.Noun, err)
	}
	return EmbeddedPrefix + strings.TrimSuffix(name, ".toml"), data, nil
}

// readFile reads at most MaxBytes of path, failing if there is more.
// isDir reports whether path is a directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func readFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("file is larger than %d bytes", MaxBytes)
	}
	return data, nil
}

// Decode decodes the TOML text data into a generic map (tables as
// map[string]any, arrays of tables as []map[string]any) and finds where
// its keys are written. source names the file in errors. A syntax error
// is an *Error at the error's position, naming the key it is about; so is
// text larger than MaxBytes.
func (f Format) Decode(source string, data []byte) (map[string]any, Positions, error) {
	if len(data) > MaxBytes {
		return nil, nil, &Error{File: source, Msg: fmt.Sprintf("%s is larger than %d bytes", f.Noun, MaxBytes)}
	}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, nil, syntaxError(source, data, err)
	}
	return raw, Scan(data), nil
}

// BaseName is the name a file's source gives it by default: the base name
// without ".toml" of a path, or NAME of "embedded:NAME"; fallback when
// that is empty.
func BaseName(source, fallback string) string {
	name := strings.TrimPrefix(source, EmbeddedPrefix)
	name = strings.TrimSuffix(filepath.Base(filepath.ToSlash(name)), ".toml")
	if name == "" || name == "." || name == "/" {
		return fallback
	}
	return name
}
