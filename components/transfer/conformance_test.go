package transfer_test

import (
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/components/transfer"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// The Sender, the Receiver and the graphs built around them keep the
// shutdown rules (issue 12). The graphs' peers are on 127.0.0.1 and send
// only to a socket of the test's there.
func TestConformance(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, 10_000, 1)
	var seq atomic.Uint64
	// dst returns a path no Receiver has been given.
	dst := func() string { return filepath.Join(dir, fmt.Sprintf("dst%d.bin", seq.Add(1))) }
	far, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { far.Close() })
	farAddr := far.LocalAddr().(*net.UDPAddr).AddrPort()
	// peer fails the test if p could not be made.
	peer := func(p *udp.PeerComponent) *udp.PeerComponent {
		if err := p.Err(); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// A Sender's replies carry the id it picks when it starts, so none
	// can be made beforehand: it is fed replies of another transfer,
	// which it takes, reports on "errors" and ignores.
	const other = 0xabcdef
	t.Run("Sender", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node { return transfer.Sender(src) }, axontest.Feed(
			udp.Datagram{Data: (&transfer.Packet{Type: transfer.TypeAccept, ID: other, Window: 4}).Marshal(), From: farAddr},
			(&transfer.Packet{Type: transfer.TypeAck, ID: other, Next: 1}).Marshal(),
		))
	})
	// A Receiver is fed a whole transfer of 7 bytes in 3 chunks, from a
	// sender at farAddr; its replies are not sent anywhere.
	const id = 0x123456
	end := transfer.Packet{Type: transfer.TypeEnd, ID: id, Digest: sha256.Sum256([]byte("abcdefg"))}
	var whole []any
	for _, p := range []transfer.Packet{
		{Type: transfer.TypeStart, ID: id, Size: 7, ChunkSize: 3, Chunks: 3, Window: 4},
		{Type: transfer.TypeData, ID: id, Seq: 0, Payload: []byte("abc")},
		{Type: transfer.TypeData, ID: id, Seq: 2, Payload: []byte("g")},
		{Type: transfer.TypeData, ID: id, Seq: 1, Payload: []byte("def")},
		end,
	} {
		whole = append(whole, udp.Datagram{Data: p.Marshal(), From: farAddr})
	}
	t.Run("Receiver", func(t *testing.T) {
		var paths []string
		axontest.Conformance(t, func() axon.Node {
			paths = append(paths, dst())
			return transfer.Receiver(paths[len(paths)-1])
		}, axontest.Feed(whole...))
		// The ProducerFinished check's Receiver took the whole transfer
		// before it ended, so the file is in place.
		if b, err := os.ReadFile(paths[0]); err != nil || string(b) != "abcdefg" {
			t.Errorf("after ProducerFinished behind a whole transfer: file %q, %v; want \"abcdefg\"", b, err)
		}
	})
	t.Run("SendGraph", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node {
			return transfer.SendGraph(transfer.Sender(src), peer(udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(farAddr))), nil, nil)
		})
	})
	t.Run("ReceiveGraph", func(t *testing.T) {
		axontest.Conformance(t, func() axon.Node {
			return transfer.ReceiveGraph(transfer.Receiver(dst()), peer(udp.PostboxPeer(udp.Local("127.0.0.1:0"))), nil, nil)
		})
	})
}
