package real

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the workers of the real runs
// the tests start (Run re-executes the running binary).
func TestMain(m *testing.M) {
	if IsWorker() {
		os.Exit(WorkerMain(testSamplers))
	}
	os.Exit(m.Run())
}
