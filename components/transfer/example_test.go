package transfer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/transfer"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// A file sent over loopback UDP through a network that loses a fifth of
// the datagrams each way, repeats some and reorders them.
func ExampleSendGraph() {
	dir, _ := os.MkdirTemp("", "transfer-example-")
	defer os.RemoveAll(dir)
	src, dst := filepath.Join(dir, "greeting.txt"), filepath.Join(dir, "copy.txt")
	_ = os.WriteFile(src, []byte("hello over a lossy network\n"), 0o644)

	// The receiving side: a PostboxPeer on a free port and a Receiver.
	listen := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	recv := transfer.ReceiveGraph(transfer.Receiver(dst, transfer.Linger(time.Second)), listen, nil, nil)

	// The sending side: a Sender, a SimplePeer aimed at the receiver, and
	// a damaging network each way.
	bad := simulate.Config{Loss: 0.2, Duplicate: 0.05, Reorder: 4, Seed: 1}
	peer := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(listen.LocalAddr()))
	send := transfer.SendGraph(transfer.Sender(src, transfer.ChunkSize(4)), peer,
		[]axon.Node{simulate.Network(bad)}, []axon.Node{simulate.Network(bad)})

	ctx := context.Background()
	r := axon.Start(ctx, recv)
	fmt.Println("sender:", axon.Run(ctx, send))
	fmt.Println("receiver:", r.Wait())
	b, _ := os.ReadFile(dst)
	fmt.Print(string(b))
	// Output:
	// sender: <nil>
	// receiver: <nil>
	// hello over a lossy network
}

// A Receiver that no sender talks to gives up after its Timeout, and
// leaves nothing behind.
func ExampleReceiveGraph() {
	dir, _ := os.MkdirTemp("", "transfer-example-")
	defer os.RemoveAll(dir)
	listen := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	r := transfer.Receiver(filepath.Join(dir, "never.bin"), transfer.Timeout(50*time.Millisecond))
	err := axon.Run(context.Background(), transfer.ReceiveGraph(r, listen, nil, nil))
	fmt.Println(errors.Is(err, transfer.ErrTimeout))
	left, _ := os.ReadDir(dir)
	fmt.Println(len(left), "files left")
	// Output:
	// true
	// 0 files left
}

// A Sender of a file that is not there fails when started, naming the
// file, before anything is sent.
func ExampleSender() {
	s := transfer.Sender(filepath.Join(os.TempDir(), "no-such-file.bin"))
	err := axon.Run(context.Background(), s)
	fmt.Println(errors.Is(err, os.ErrNotExist))
	// Output:
	// true
}

// A Receiver takes the datagrams of one transfer on "inbox" and writes
// the file once it is whole; here nothing arrives before
// ProducerFinished, which ends it quietly, leaving no file behind.
func ExampleReceiver() {
	dir, _ := os.MkdirTemp("", "transfer-example-")
	defer os.RemoveAll(dir)
	r := transfer.Receiver(filepath.Join(dir, "never.bin"))
	h := axon.Start(context.Background(), r)
	_ = h.Put(context.Background(), axon.ControlName, axon.ProducerFinished{})
	err := h.Wait()
	left, _ := os.ReadDir(dir)
	fmt.Println("ended:", err, "-", len(left), "files left")
	// Output:
	// ended: <nil> - 0 files left
}

func ExampleParse() {
	b := (&transfer.Packet{Type: transfer.TypeAck, ID: 0xfeed, Next: 3, SACK: []byte{0b101}}).Marshal()
	p, err := transfer.Parse(b)
	fmt.Println(p.Type, p.Next, p.SACK, err)
	_, err = transfer.Parse([]byte("hello"))
	fmt.Println(err)
	// Output:
	// ACK 3 [5] <nil>
	// malformed packet: 5 bytes, shorter than the 18-byte header
}
