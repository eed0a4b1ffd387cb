//go:build !unix

package benchmarks

import (
	"net"
	"time"
)

// cpuTime is not measured here: it reads as 0.
func cpuTime() time.Duration { return 0 }

// minorFaults is not measured here: it reads as 0.
func minorFaults() int64 { return 0 }

// readBufferOf cannot read SO_RCVBUF here: it returns 0.
func readBufferOf(*net.UDPConn) int { return 0 }
