//go:build race

package udp

// raceEnabled says whether the race detector is on: sync.Pool then drops
// what is put in it at random, so tests that count allocations skip.
const raceEnabled = true
