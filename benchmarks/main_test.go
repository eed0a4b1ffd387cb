package benchmarks

import (
	"fmt"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(withSummary{m}) }

// withSummary runs the tests and benchmarks, then prints every summary line
// the benchmarks recorded, together, so that they can be quoted as a block.
// goleak checks for leaked goroutines after that.
type withSummary struct{ m *testing.M }

func (s withSummary) Run() int {
	code := s.m.Run()
	summary.mu.Lock()
	defer summary.mu.Unlock()
	if len(summary.lines) > 0 {
		fmt.Println("summary:")
		for _, l := range summary.lines {
			fmt.Println("  " + l)
		}
	}
	return code
}

// summary collects the one-line results of the benchmarks that ran.
var summary struct {
	mu    sync.Mutex
	lines []string
}

// report logs a result line on b and keeps it for the closing summary.
func report(b *testing.B, format string, args ...any) {
	b.Helper()
	line := fmt.Sprintf(format, args...)
	b.Log(line)
	summary.mu.Lock()
	summary.lines = append(summary.lines, line)
	summary.mu.Unlock()
}
