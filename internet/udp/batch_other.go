//go:build !linux

package udp

import (
	"errors"
	"fmt"
	"net"
)

// newBatchReader reports that batched reads are not available here: they
// use recvmmsg, which only Linux has. The caller reads one datagram at a
// time instead.
func newBatchReader(conn *net.UDPConn, n int) (reader, error) {
	return nil, fmt.Errorf("udp: batched reads need Linux: %w", errors.ErrUnsupported)
}
