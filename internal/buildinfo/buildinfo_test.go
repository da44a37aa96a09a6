package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"release", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/sbmpsim/sbmpsim", Version: "v1.2.3"}},
			"github.com/sbmpsim/sbmpsim v1.2.3 go1.26.8"},
		{"checkout", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/sbmpsim/sbmpsim", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "false"}}},
			"github.com/sbmpsim/sbmpsim (devel) rev abc123 go1.26.8"},
		{"dirty", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/sbmpsim/sbmpsim", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}},
			"github.com/sbmpsim/sbmpsim (devel) rev abc123+dirty go1.26.8"},
		{"test binary", debug.BuildInfo{GoVersion: "go1.26.8"}, "github.com/sbmpsim/sbmpsim (devel) go1.26.8"},
	}
	for _, tt := range tests {
		if got := fromBuildInfo(&tt.bi).String(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCurrentIsStable(t *testing.T) {
	a, b := Current(), Current()
	if a != b || a.Go == "" || a.Module == "" {
		t.Fatalf("Current() = %+v then %+v", a, b)
	}
}
