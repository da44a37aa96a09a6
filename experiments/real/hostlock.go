package real

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// This file keeps real runs on one host from overlapping. A run's
// vmstat, PSI and kernel-log figures are the whole host's, and its
// timings assume the machine is not also running another run's workers:
// two runs at once (two test binaries of `go test ./...`, a validation
// suite beside a `sbmpsim real`) would each measure the other. So a run
// holds an exclusive flock on one file per host from before its set-up
// until its clean-up is done, and a second run waits for it.

// hostLockPath is the lock file: in /run/lock (the FHS place for lock
// files, on tmpfs, gone at boot), or the temporary directory of the
// process where there is none.
func hostLockPath() string {
	if st, err := os.Stat("/run/lock"); err == nil && st.IsDir() && unix.Access("/run/lock", unix.W_OK) == nil {
		return "/run/lock/sbmpsim-real.lock"
	}
	return filepath.Join(os.TempDir(), "sbmpsim-real.lock")
}

// lockPoll is how often a waiting run tries the lock again.
const lockPoll = 100 * time.Millisecond

// lockHost takes the host's real-run lock, waiting while another run
// holds it (and saying so on log once), until ctx is done. The returned
// function releases it. The kernel drops the lock when its holder dies,
// SIGKILL included, so a killed run never blocks the next.
func lockHost(ctx context.Context, log io.Writer) (unlock func(), err error) {
	return lockFile(ctx, hostLockPath(), log)
}

// lockFile is lockHost on the lock file path.
func lockFile(ctx context.Context, path string, log io.Writer) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("real-run lock %s: %w", path, err)
	}
	said := false
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing the file drops the lock
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("real-run lock %s: %w", path, err)
		}
		if !said {
			fmt.Fprintf(log, "real: another real run holds %s; waiting for it to finish (runs on one host never overlap)\n", path)
			said = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}
