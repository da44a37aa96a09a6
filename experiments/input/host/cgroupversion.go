package host

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ReadCgroupVersion finds the version of the host's memory controller
// under root, as a scenario's kernel.cgroup_version takes it: 2 when the
// unified hierarchy at sys/fs/cgroup (or sys/fs/cgroup/unified on a hybrid
// host) has the memory controller (cgroup.controllers), 1 when a cgroup
// v1 memory hierarchy is mounted at sys/fs/cgroup/memory, and 0 when
// neither is there. Only the files are read, so a copied tree works as
// root; experiments/real probes the live mount the same way and checks
// the file system types too.
func ReadCgroupVersion(root string) int {
	for _, dir := range []string{"sys/fs/cgroup", "sys/fs/cgroup/unified"} {
		b, err := os.ReadFile(filepath.Join(root, dir, "cgroup.controllers"))
		if err == nil && slices.Contains(strings.Fields(string(b)), "memory") {
			return 2
		}
	}
	if _, err := os.Stat(filepath.Join(root, "sys/fs/cgroup/memory/memory.limit_in_bytes")); err == nil {
		return 1
	}
	return 0
}
