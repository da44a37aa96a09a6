package ab

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

func TestSplitOverrides(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"policy.degrade=wait-refill", []string{"policy.degrade=wait-refill"}},
		{"policy.degrade=wait-refill,policy.degrade_wait_ms=2", []string{"policy.degrade=wait-refill", "policy.degrade_wait_ms=2"}},
		{"workload.0.cpus=0-3,8-11", []string{"workload.0.cpus=0-3,8-11"}},
		{"workload.0.sizes_bytes=[64,128],kernel.swappiness=60", []string{"workload.0.sizes_bytes=[64,128]", "kernel.swappiness=60"}},
		{`workload.0={rate_per_s=1,cpus="0-3"}`, []string{`workload.0={rate_per_s=1,cpus="0-3"}`}},
		{`run.name="x,y=z"`, []string{`run.name="x,y=z"`}},
	} {
		got, err := SplitOverrides(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("SplitOverrides(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := SplitOverrides("policy.degrade"); err == nil {
		t.Error("no error for an assignment without =")
	}
}

func TestNewArm(t *testing.T) {
	base, err := scenario.Load("oom-crisis")
	if err != nil {
		t.Fatal(err)
	}
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
	arm, err := NewArm(base, "b", "", []string{"policy.degrade=wait-refill"})
	if err != nil {
		t.Fatal(err)
	}
	if arm.Name != "b" || arm.Scenario.Policy.Degrade != "wait-refill" || base.Policy.Degrade == "wait-refill" {
		t.Errorf("arm %q degrade %q, base degrade %q", arm.Name, arm.Scenario.Policy.Degrade, base.Policy.Degrade)
	}
	for _, c := range []struct {
		overrides []string
		want      []string // substrings of the message
	}{
		{[]string{"policy.degrad=wait-refill"}, []string{`arm a ("fast")`, "policy.degrad", "unknown key"}},
		{[]string{"policy.degrade=bogus"}, []string{`arm a ("fast")`, "policy.degrade"}},
		{[]string{"run.seed=5"}, []string{`arm a ("fast")`, "run.seed", "--seed"}},
	} {
		_, err := NewArm(base, "a", "fast", c.overrides)
		var ae *ArmError
		if !errors.As(err, &ae) || ae.Key != "a" {
			t.Errorf("NewArm(%q) = %v, want an *ArmError for arm a", c.overrides, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("NewArm(%q) error %q does not mention %q", c.overrides, err, w)
			}
		}
	}
}
