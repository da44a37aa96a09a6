package world

import "testing"

// skipUnderRace skips a test that only runs simulations under the race
// detector. Run is single-goroutine (it starts none), so the detector
// has no concurrent access to find in these tests; it would only run
// them about ten times slower (TestCancelStopsTheRun took 38 s under
// -race against 1.6 s without). `go test ./...` runs them; the race
// pass keeps every test of the package that is cheap or that the
// detector has something to watch in.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("single-goroutine simulation, ~10x slower under -race and nothing for the detector to watch; go test ./... runs it")
	}
}
