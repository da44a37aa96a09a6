package scenario

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func loadCrisis(t *testing.T) *Scenario {
	t.Helper()
	s, err := Load("oom-crisis")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSet(t *testing.T) {
	tests := []struct {
		assignment string
		check      func(s *Scenario) bool
	}{
		{"kernel.swappiness=60", func(s *Scenario) bool { return s.Kernel.Swappiness == 60 }},
		{" kernel.swappiness = 61 ", func(s *Scenario) bool { return s.Kernel.Swappiness == 61 }},
		{"workload.0.rate_per_s=5e4", func(s *Scenario) bool { return s.Workloads[0].RatePerS == 5e4 }},
		{"workload.1.rate_per_s=7", func(s *Scenario) bool { return s.Workloads[1].RatePerS == 7 }},
		{"sbmp.slot_sizes=[64,128]", func(s *Scenario) bool { return reflect.DeepEqual(s.SBMP.SlotSizes, []int64{64, 128}) }},
		{"policy.refill=adaptive-batch", func(s *Scenario) bool { return s.Policy.Refill == "adaptive-batch" }},
		{`policy.refill="steal-peer"`, func(s *Scenario) bool { return s.Policy.Refill == "steal-peer" }},
		{"workload.0.cpus=0-7", func(s *Scenario) bool { return s.Workloads[0].CPUs == "0-7" }},
		{"workload.0.cpus=3", func(s *Scenario) bool { return s.Workloads[0].CPUs == "3" }},
		{"run.name=2024", func(s *Scenario) bool { return s.Run.Name == "2024" }},
		{"run.name=a=b", func(s *Scenario) bool { return s.Run.Name == "a=b" }},
		{"run.seed=18", func(s *Scenario) bool { return s.Run.Seed == 18 }},
		{"kernel={swappiness=5, swap_mb=10}", func(s *Scenario) bool {
			return s.Kernel.Swappiness == 5 && s.Kernel.SwapMB == 10 && s.Kernel.WatermarkScaleFactor == 10
		}},
		{"workload.1={size_bytes=1024}", func(s *Scenario) bool {
			return s.Workloads[1].SizeBytes == 1024 && s.Workloads[1].Name == "long-lived-small"
		}},
		{`workload=[{cpus="4"}]`, func(s *Scenario) bool {
			want := DefaultWorkload(0)
			want.CPUs = "4"
			return len(s.Workloads) == 1 && reflect.DeepEqual(s.Workloads[0], want)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.assignment, func(t *testing.T) {
			s := loadCrisis(t)
			if err := s.Set(tt.assignment); err != nil {
				t.Fatal(err)
			}
			if !tt.check(s) {
				t.Fatalf("not applied: %+v", s)
			}
		})
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct{ assignment, want string }{
		{"kernel.swappiness", `--set: "kernel.swappiness" is not KEY=VALUE`},
		{"=1", "--set: empty key"},
		{"kernel..swappiness=1", "--set: kernel..swappiness: empty key segment"},
		{"kernel.swapiness=1", "--set: kernel.swapiness: unknown key (did you mean kernel.swappiness?)"},
		{"kernal.swappiness=1", "--set: kernal: unknown key (did you mean kernel?)"},
		{"seed=1", "--set: seed: unknown key (did you mean run.seed?)"},
		{"kernel.swappiness=zero", `--set: kernel.swappiness: expected an integer, found string "zero"`},
		{"kernel.swappiness=1.5", "--set: kernel.swappiness: expected an integer, found float 1.5"},
		{"workload.0.rate_per_s=fast", `--set: workload.0.rate_per_s: expected a number, found string "fast"`},
		{"workload.7.rate_per_s=1", "--set: workload.7: index 7 is out of range: the scenario has 7 workload tables"},
		{"workload.x.rate_per_s=1", "--set: workload.x: expected an index after workload, such as workload.0"},
		{"workload.-1.rate_per_s=1", "--set: workload.-1: expected an index after workload"},
		{"workload.0.nope=1", "--set: workload.0.nope: unknown key"},
		{"sbmp.slot_sizes.0=8", "--set: sbmp.slot_sizes.0: sbmp.slot_sizes is an array; set it whole"},
		{"kernel.swappiness.x=1", "--set: kernel.swappiness.x: kernel.swappiness is not a table"},
		{"sbmp.slot_sizes=[64,\"x\"]", `--set: sbmp.slot_sizes.1: expected an integer, found string "x"`},
		{"kernel={swappiness=1, bad=2}", "--set: kernel.bad: unknown key"},
		{"run.seed=-1", "--set: run.seed: expected a non-negative integer, found -1"},
		{"Source=x", "--set: Source: unknown key"},
		{"origins=x", "--set: origins: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.assignment, func(t *testing.T) {
			s := loadCrisis(t)
			before := exported(s)
			err := s.Set(tt.assignment)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Set(%q) = %v, want prefix %q", tt.assignment, err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != SetSource || e.Line != 0 {
				t.Fatalf("error %#v is not a --set *Error without a line", err)
			}
			if !reflect.DeepEqual(exported(s), before) {
				t.Fatalf("a failed Set changed the scenario")
			}
		})
	}
}

func TestSetThenValidatePointsAtSet(t *testing.T) {
	s, err := Parse("x.toml", []byte("[kernel]\nswappiness = 0\n[[workload]]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"kernel.swappiness=300", "workload.0.rate_per_s=-1", "output.sample_interval_ms=0"} {
		if err := s.Set(a); err != nil {
			t.Fatal(err)
		}
	}
	want := "--set: kernel.swappiness: must be in 0..200, got 300\n" +
		"--set: workload.0.rate_per_s: must be > 0 and at most 1e+09, got -1\n" +
		"--set: output.sample_interval_ms: must be in 1..1000000000, got 0"
	if err := s.Validate(); err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	// A table value sets only the keys it names; the others keep their
	// position in the file.
	s3, _ := Parse("x.toml", []byte("[kernel]\nswap_mb = -1\n[[workload]]\n"))
	if err := s3.Set("kernel={swappiness=300}"); err != nil {
		t.Fatal(err)
	}
	want3 := "x.toml:2:1: kernel.swap_mb: must be in 0..1073741824, got -1\n" +
		"--set: kernel.swappiness: must be in 0..200, got 300"
	if err := s3.Validate(); err == nil || err.Error() != want3 {
		t.Fatalf("got\n%v\nwant\n%s", err, want3)
	}
	// A whole array of workloads from --set: the keys under it are --set too.
	s2, _ := Parse("x.toml", []byte("[[workload]]\nrate_per_s = 5\n"))
	if err := s2.Set("workload=[{rate_per_s=-2}]"); err != nil {
		t.Fatal(err)
	}
	if err := s2.Validate(); err == nil || err.Error() != "--set: workload.0.rate_per_s: must be > 0 and at most 1e+09, got -2" {
		t.Fatalf("got %v", err)
	}
}

func TestSetDoesNotLeakIntoCopies(t *testing.T) {
	a := loadCrisis(t)
	b := a.Clone()
	plain := *a // a struct copy shares slices and the origins map
	if err := b.Set("workload.0.rate_per_s=1"); err != nil {
		t.Fatal(err)
	}
	if err := plain.Set("workload.2.rate_per_s=2"); err != nil {
		t.Fatal(err)
	}
	if a.Workloads[0].RatePerS != 50000 || a.Workloads[2].RatePerS != 500 {
		t.Fatalf("Set on a copy changed the original: %+v", a.Workloads)
	}
	if _, o := a.originOf("workload.2.rate_per_s", false); o.line == 0 {
		t.Fatalf("Set on a struct copy changed the original's origins")
	}
}
