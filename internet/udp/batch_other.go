//go:build !linux || 386

package udp

import (
	"errors"
	"fmt"
	"net"
)

// newBatchReader reports that batched reads are not available here: they
// use recvmmsg, which only Linux has (and are left out on linux/386, see
// batch_linux.go). The caller reads one datagram at a time instead.
func newBatchReader(conn *net.UDPConn, n int) (reader, error) {
	return nil, fmt.Errorf("udp: batched reads need Linux: %w", errors.ErrUnsupported)
}

// newBatchWriter reports that batched sends are not available here: they
// use sendmmsg, which only Linux has. The caller sends one datagram at a
// time instead.
func newBatchWriter(*PeerComponent, int) (writer, error) {
	return nil, fmt.Errorf("udp: batched sends need Linux: %w", errors.ErrUnsupported)
}
