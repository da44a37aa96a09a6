package scenarios

import (
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) || !slices.Contains(names, Default) || !slices.Contains(names, "steady") {
		t.Fatalf("Names() = %v", names)
	}
	names[0] = "mutated"
	if Names()[0] == "mutated" {
		t.Fatal("Names returns shared state")
	}
}

func TestRead(t *testing.T) {
	for _, name := range Names() {
		a, err := Read(name)
		if err != nil || len(a) == 0 {
			t.Fatalf("Read(%q) = %d bytes, %v", name, len(a), err)
		}
		b, err := Read(name + ".toml")
		if err != nil || string(a) != string(b) {
			t.Fatalf("Read(%q.toml) differs: %v", name, err)
		}
		if !Has(name) {
			t.Fatalf("Has(%q) = false", name)
		}
	}
	for _, bad := range []string{"", "nope", "../scenarios/steady", ".", ".toml"} {
		if _, err := Read(bad); err == nil || !strings.Contains(err.Error(), "known: anon-fill,") || !strings.Contains(err.Error(), "oom-crisis") {
			t.Errorf("Read(%q) = %v, want an error listing the known names", bad, err)
		}
		if Has(bad) {
			t.Errorf("Has(%q) = true", bad)
		}
	}
}
