//go:build !race

package world

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
