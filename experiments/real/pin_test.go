package real

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPinCPUs: a cpus list is pinned only when this process may use each
// of its CPUs.
func TestPinCPUs(t *testing.T) {
	if cpus, ok, why := pinCPUs("0"); !ok || len(cpus) != 1 || cpus[0] != 0 {
		t.Fatalf(`pinCPUs("0") = %v, %v (%s)`, cpus, ok, why)
	}
	if _, ok, why := pinCPUs("4095"); ok || !strings.Contains(why, "CPU 4095") {
		t.Fatalf(`pinCPUs("4095") = %v, %q; want refused, naming the CPU`, ok, why)
	}
	if _, ok, _ := pinCPUs("x"); ok {
		t.Fatal(`pinCPUs("x") accepted`)
	}
}

// TestPinEveryThread: pin sets the affinity of each thread of a process.
// The child is this test binary's helper below, a Go process with
// several threads.
func TestPinEveryThread(t *testing.T) {
	if os.Getenv("SBMPSIM_PIN_CHILD") == "1" {
		select {} // a Go process: its runtime has started its threads
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPinEveryThread$")
	cmd.Env = append(os.Environ(), "SBMPSIM_PIN_CHILD=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := cmd.Process.Pid
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	// Wait until the child runs Go (its runtime's threads are up).
	for i := 0; ; i++ {
		if ents, _ := os.ReadDir(dir); len(ents) >= 2 {
			break
		}
		if i == 500 {
			t.Fatal("the child never started its threads")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := pin(pid, []int{0}); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(dir + "/" + e.Name() + "/status")
		if err != nil {
			continue // the thread exited
		}
		if !strings.Contains(string(b), "Cpus_allowed_list:\t0\n") {
			i := strings.Index(string(b), "Cpus_allowed_list")
			t.Fatalf("thread %s: %s", e.Name(), strings.SplitN(string(b[i:]), "\n", 2)[0])
		}
	}
}
