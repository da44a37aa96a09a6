package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sbmpsim/sbmpsim/internal/slowtest"
)

// TestTUIInTmux drives the real binary's `tui` in tmux (Debian's tmux,
// send-keys and capture-pane) at 80x24 and at 200x50: it opens the
// default scenario, types an unknown key and sees the error with its line,
// fixes it, runs the scenario and sees the OOM kill of seed 1 with the
// victim and time_ns of summary.json, runs two seeds and sees the OOM
// count of `run --seeds 2`, and quits with the terminal back in canonical
// mode with echo. It takes about a minute on two cores (seven runs of
// the default scenario), so it is one of the slow checks; .ci/run installs
// tmux and sets the switch, and with the switch on a missing tmux fails.
func TestTUIInTmux(t *testing.T) {
	_, bin := buildForTmux(t)
	// The reference: seeds 1 and 2 of the default scenario, as the CLI
	// runs them.
	out, err := exec.Command(bin, "run", "--seeds", "2", "--json").Output()
	if err != nil {
		t.Fatalf("run --seeds 2: %v", err)
	}
	var rep struct {
		Runs []struct {
			OOMKills  int `json:"oom_kills"`
			OOMEvents []struct {
				TimeNs     int64  `json:"time_ns"`
				VictimPID  int    `json:"victim_pid"`
				VictimComm string `json:"victim_comm"`
			} `json:"oom_events"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &rep); err != nil || len(rep.Runs) != 2 {
		t.Fatalf("replications.json: %v", err)
	}
	if len(rep.Runs[0].OOMEvents) == 0 {
		t.Fatal("seed 1 of the default scenario has no OOM kill")
	}
	kill := rep.Runs[0].OOMEvents[0]
	oomRuns := 0
	for _, r := range rep.Runs {
		if r.OOMKills > 0 {
			oomRuns++
		}
	}

	for _, size := range [][2]int{{80, 24}, {200, 50}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			tm := newTmux(t, size[0], size[1],
				fmt.Sprintf(`%q tui --workers 2; echo "EXIT=$?"; stty -a | tr ' ;' '\n\n' | grep -x -e icanon -e -icanon -e echo -e -echo; echo MODES-END; sleep 600`, bin))
			tm.wait("the editor", "✓ valid scenario")
			tm.literal("bogus_key = 1")
			tm.keys("Enter")
			screen := tm.wait("the unknown key's error", "embedded:oom-crisis:1:1: bogus_key: unknown key")
			if !strings.Contains(screen, "  1! bogus_key = 1") {
				t.Errorf("line 1 is not marked:\n%s", screen)
			}
			tm.keys("Up", "C-u")
			tm.wait("the fix", "✓ valid scenario")

			tm.keys("C-r")
			want := fmt.Sprintf("(time_ns %d): global pid %d %q", kill.TimeNs, kill.VictimPID, kill.VictimComm)
			screen = tm.wait("the OOM kill of seed 1", want)
			if !strings.Contains(screen, "OOM kill at") {
				t.Errorf("no OOM kill line:\n%s", screen)
			}
			tm.wait("the end of the run", "run: finished")

			tm.keys("C-t")
			tm.wait("the seeds form", "Run over seeds")
			tm.keys("C-u")
			tm.literal("2")
			tm.keys("Tab", "Tab", "Tab", "Enter")
			screen = tm.wait("the seeds", "on 2 workers   finished in")
			if want := fmt.Sprintf("OOM in %d of 2 runs", oomRuns); !strings.Contains(screen, want) {
				t.Errorf("the seeds view lacks %q:\n%s", want, screen)
			}
			if !strings.Contains(screen, "95 % Wilson") {
				t.Errorf("no interval:\n%s", screen)
			}

			tm.keys("F10")
			// Wait for stty's lines, not just the exit status before them
			// (a pane read between the two failed once in CI).
			screen = tm.wait("the exit", "MODES-END")
			if !strings.Contains(screen, "EXIT=0") {
				t.Errorf("sbmpsim tui did not exit 0:\n%s", screen)
			}
			for _, mode := range []string{"icanon", "echo"} {
				if !strings.Contains(screen, "\n"+mode+"\n") {
					t.Errorf("the terminal is not back in %s mode:\n%s", mode, screen)
				}
			}
		})
	}
}

// TestTUISignalKeepsUnsavedText sends SIGTERM to a tui with unsaved
// changes to the default scenario: the terminal comes back, the exit is
// non-zero, and the text is in oom-crisis.recovered.toml in the working
// directory.
func TestTUISignalKeepsUnsavedText(t *testing.T) {
	tmp, bin := buildForTmux(t)
	pidFile := filepath.Join(tmp, "pid")
	tm := newTmux(t, 80, 24, fmt.Sprintf(`cd %q && { echo $$ > %q; exec %q tui; }`, tmp, pidFile, bin))
	tm.wait("the editor", "✓ valid scenario")
	tm.literal("# mine")
	tm.wait("the edit", "● modified")
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("kill", "-TERM", strings.TrimSpace(string(pid))).CombinedOutput(); err != nil {
		t.Fatalf("kill: %v\n%s", err, out)
	}
	deadline := time.Now().Add(time.Minute)
	rec := filepath.Join(tmp, "oom-crisis.recovered.toml")
	for {
		if got, err := os.ReadFile(rec); err == nil {
			if !strings.HasPrefix(string(got), "# mine") {
				t.Errorf("the recovery file starts %.20q", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s", rec)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// buildForTmux skips unless the slow checks are on, requires tmux, and
// builds the binary into a temporary directory, which it returns with
// the binary's path.
func buildForTmux(t *testing.T) (dir, bin string) {
	t.Helper()
	slowtest.Require(t, "drives the tui in tmux")
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed (apt-get install tmux)")
	}
	dir = t.TempDir()
	bin = filepath.Join(dir, "sbmpsim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir, bin
}

// tmuxSessions numbers the sessions of this test process (tests using
// tmux do not run in parallel).
var tmuxSessions int

// tmux is one detached tmux session on a socket of its own.
type tmux struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T, w, h int, command string) *tmux {
	t.Helper()
	tmuxSessions++
	tm := &tmux{t: t, socket: fmt.Sprintf("sbmpsim-test-%d-%d", os.Getpid(), tmuxSessions)}
	t.Cleanup(func() { _ = tm.cmd("kill-server").Run() })
	c := tm.cmd("new-session", "-d", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "sh", "-c", command)
	c.Env = append(os.Environ(), "TERM=xterm-256color")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	return tm
}

func (tm *tmux) cmd(args ...string) *exec.Cmd {
	return exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...)
}

// keys sends tmux key names (Enter, C-r, F10, ...).
func (tm *tmux) keys(names ...string) {
	tm.t.Helper()
	if out, err := tm.cmd(append([]string{"send-keys"}, names...)...).CombinedOutput(); err != nil {
		tm.t.Fatalf("send-keys %v: %v\n%s", names, err, out)
	}
}

// literal types text as it is.
func (tm *tmux) literal(text string) {
	tm.t.Helper()
	if out, err := tm.cmd("send-keys", "-l", text).CombinedOutput(); err != nil {
		tm.t.Fatalf("send-keys -l: %v\n%s", err, out)
	}
}

// wait polls the pane until it shows want, for at most 3 minutes (the
// default scenario takes seconds to run on a loaded machine).
func (tm *tmux) wait(what, want string) string {
	tm.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out, err := tm.cmd("capture-pane", "-p").Output()
		if err != nil {
			tm.t.Fatalf("capture-pane: %v", err)
		}
		if strings.Contains(string(out), want) {
			return string(out)
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("waiting for %s (%q); the pane shows:\n%s", what, want, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
