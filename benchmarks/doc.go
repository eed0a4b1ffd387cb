// Package benchmarks puts the framework beside hand-written Go in the same
// run and prints how the two compare. It holds no library code: everything
// lives in its _test.go files and runs under
//
//	make bench
//
// which is
//
//	go test -run '^$' -bench . -benchtime=1x -count=1 -timeout=10m ./benchmarks/
//
// Each benchmark reports its figures as custom metrics (msgs/s, ratio,
// allocs/msg, bytes/component, ...) and writes a one-line summary to the
// benchmark log; the same lines are repeated together at the end of the
// run. The figures are measurements: nothing here asserts a speed. See
// README.md in this directory for what each figure means.
package benchmarks
