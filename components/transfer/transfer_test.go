package transfer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/components/transfer"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// writeFile writes n pseudo-random bytes (from seed) to a new file in
// dir and returns its path.
func writeFile(t testing.TB, dir string, n int, seed uint64) string {
	t.Helper()
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	path := filepath.Join(dir, "src.bin")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sameFile fails unless a and b hold the same bytes.
func sameFile(t testing.TB, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatalf("the received file: %v", err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("received %d bytes (sha256 %x), sent %d (sha256 %x)", len(y), sha256.Sum256(y), len(x), sha256.Sum256(x))
	}
}

// onlyEntries fails unless dir holds exactly the named entries: no
// temporary file is left behind.
func onlyEntries(t testing.TB, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %q, want %q", dir, got, names)
	}
}

// setup is one transfer between two graphs on loopback.
type setup struct {
	sopts, ropts         []transfer.Option
	toNet, fromNet       func() []axon.Node // sender side stages, each direction
	sender               *transfer.SenderComponent
	receiver             *transfer.ReceiverComponent
	recvPeer             *udp.PeerComponent
	sendGraph, recvGraph *axon.Component
}

// run sends src to dst and returns the sender's and receiver's errors.
func (s *setup) run(t testing.TB, ctx context.Context, src, dst string, opts ...axon.StartOption) (sendErr, recvErr error) {
	t.Helper()
	s.start(t, src, dst)
	hr := axon.Start(ctx, s.recvGraph, opts...)
	hs := axon.Start(ctx, s.sendGraph, opts...)
	sendErr = hs.Wait()
	recvErr = hr.Wait()
	return sendErr, recvErr
}

func (s *setup) start(t testing.TB, src, dst string) {
	t.Helper()
	s.recvPeer = udp.PostboxPeer(udp.Local("127.0.0.1:0"), udp.ReadBuffer(4<<20))
	if err := s.recvPeer.Err(); err != nil {
		t.Fatal(err)
	}
	s.receiver = transfer.Receiver(dst, append([]transfer.Option{transfer.Linger(300 * time.Millisecond), transfer.Timeout(20 * time.Second)}, s.ropts...)...)
	s.recvGraph = transfer.ReceiveGraph(s.receiver, s.recvPeer, nil, nil)
	speer := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(s.recvPeer.LocalAddr()), udp.ReadBuffer(4<<20))
	if err := speer.Err(); err != nil {
		t.Fatal(err)
	}
	s.sender = transfer.Sender(src, append([]transfer.Option{transfer.Timeout(20 * time.Second)}, s.sopts...)...)
	var to, from []axon.Node
	if s.toNet != nil {
		to = s.toNet()
	}
	if s.fromNet != nil {
		from = s.fromNet()
	}
	s.sendGraph = transfer.SendGraph(s.sender, speer, to, from)
}

func TestTransferSizes(t *testing.T) {
	for _, c := range []struct {
		name  string
		size  int
		chunk int
	}{
		{"small", 1000, 1200},
		{"empty", 0, 1200},
		{"one-byte", 1, 1200},
		{"exact-multiple", 1200 * 40, 1200},
		{"multiple-plus-one", 1200*40 + 1, 1200},
		{"many-windows", 300_000, 700},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := axontest.Context(t)
			dir := t.TempDir()
			src := writeFile(t, dir, c.size, uint64(c.size))
			dst := filepath.Join(dir, "dst.bin")
			s := &setup{sopts: []transfer.Option{transfer.ChunkSize(c.chunk), transfer.Window(32)}}
			sendErr, recvErr := s.run(t, ctx, src, dst)
			if sendErr != nil || recvErr != nil {
				t.Fatalf("sender: %v; receiver: %v", sendErr, recvErr)
			}
			sameFile(t, src, dst)
			onlyEntries(t, dir, "dst.bin", "src.bin")
			if p := s.sender.Progress(); p.Bytes != int64(c.size) || p.Total != int64(c.size) {
				t.Fatalf("sender progress %+v, want %d of %d bytes", p, c.size, c.size)
			}
			if p := s.receiver.Progress(); p.Bytes != int64(c.size) || p.Total != int64(c.size) {
				t.Fatalf("receiver progress %+v, want %d of %d bytes", p, c.size, c.size)
			}
		})
	}
}

// network returns a function making a simulated network for one
// direction, for setup.toNet and setup.fromNet.
func network(cfg simulate.Config) func() []axon.Node {
	return func() []axon.Node { return []axon.Node{simulate.Network(cfg)} }
}

func TestTransferUnderLoss(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	const size = 1 << 20
	src := writeFile(t, dir, size, 20)
	dst := filepath.Join(dir, "dst.bin")
	bad := simulate.Config{Loss: 0.2, Duplicate: 0.05, Reorder: 8}
	out, back := bad, bad
	out.Seed, back.Seed = 11, 12
	var outLink, backLink *simulate.Link
	s := &setup{
		sopts:   []transfer.Option{transfer.ChunkSize(4000), transfer.Window(64)},
		ropts:   []transfer.Option{transfer.Linger(time.Second)},
		toNet:   func() []axon.Node { outLink = simulate.Network(out); return []axon.Node{outLink} },
		fromNet: func() []axon.Node { backLink = simulate.Network(back); return []axon.Node{backLink} },
	}
	sendErr, recvErr := s.run(t, ctx, src, dst)
	if sendErr != nil || recvErr != nil {
		t.Fatalf("sender: %v; receiver: %v", sendErr, recvErr)
	}
	sameFile(t, src, dst)
	onlyEntries(t, dir, "dst.bin", "src.bin")
	// The network did its damage, and the transfer made up for it.
	for name, l := range map[string]*simulate.Link{"to the receiver": outLink, "back": backLink} {
		st := l.Stats()
		if st.Dropped == 0 || st.Duplicated == 0 || st.Reordered == 0 {
			t.Errorf("network %s: %+v: want some of each impairment", name, st)
		}
	}
	if p := s.sender.Progress(); p.Retransmits == 0 {
		t.Errorf("sender progress %+v: no retransmissions under 20%% loss", p)
	}
	if p := s.receiver.Progress(); p.Retransmits == 0 {
		t.Errorf("receiver progress %+v: no repeats seen under duplication", p)
	}
	t.Logf("sender %+v; receiver %+v; to %v; back %v", s.sender.Progress(), s.receiver.Progress(), outLink.Stats(), backLink.Stats())
}

// TestTransferLarge sends 50 MiB through a damaging network: 5% loss,
// 2% duplication and reordering, each way.
func TestTransferLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MiB: skipped with -short")
	}
	ctx := axontest.Context(t)
	dir := t.TempDir()
	const size = 50 << 20
	src := writeFile(t, dir, size, 50)
	dst := filepath.Join(dir, "dst.bin")
	bad := simulate.Config{Loss: 0.05, Duplicate: 0.02, Reorder: 4}
	out, back := bad, bad
	out.Seed, back.Seed = 21, 22
	s := &setup{
		sopts:   []transfer.Option{transfer.ChunkSize(32 << 10), transfer.Window(64)},
		ropts:   []transfer.Option{transfer.Linger(time.Second)},
		toNet:   network(out),
		fromNet: network(back),
	}
	start := time.Now()
	sendErr, recvErr := s.run(t, ctx, src, dst)
	if sendErr != nil || recvErr != nil {
		t.Fatalf("sender: %v; receiver: %v", sendErr, recvErr)
	}
	sameFile(t, src, dst)
	onlyEntries(t, dir, "dst.bin", "src.bin")
	t.Logf("50 MiB in %v; sender %+v", time.Since(start).Round(time.Millisecond), s.sender.Progress())
}

// counting returns g beside a component that counts the errors (each
// around a *transfer.Error) g sends on "errors" that wrap want.
func counting(g *axon.Component, want error, n *atomic.Int64) *axon.Component {
	count := axon.New("CountErrors", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(_ context.Context, m any) error {
			var te *transfer.Error
			if e, ok := m.(error); ok && errors.As(e, &te) && errors.Is(e, want) {
				n.Add(1)
			}
			return nil
		})
	})
	return chassis.Graphline(chassis.Nodes{"G": g, "COUNT": count}, chassis.Links{
		{"G", transfer.ErrorsBox}: {"COUNT", "inbox"},
		{"G", "signal"}:           {"COUNT", "control"},
	})
}

// Datagrams damaged on the way, both ways, are caught by their checksum,
// reported, and made up for like lost ones.
func TestTransferThroughCorruption(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	src := writeFile(t, dir, 500_000, 30)
	dst := filepath.Join(dir, "dst.bin")
	s := &setup{
		sopts:   []transfer.Option{transfer.ChunkSize(500)},
		ropts:   []transfer.Option{transfer.Linger(time.Second)},
		toNet:   network(simulate.Config{Corrupt: 0.1, Seed: 31}),
		fromNet: network(simulate.Config{Corrupt: 0.3, Seed: 32}),
	}
	s.start(t, src, dst)
	var atReceiver, atSender atomic.Int64
	hr := axon.Start(ctx, counting(s.recvGraph, transfer.ErrMalformed, &atReceiver))
	sendErr := axon.Run(ctx, counting(s.sendGraph, transfer.ErrMalformed, &atSender))
	if recvErr := hr.Wait(); sendErr != nil || recvErr != nil {
		t.Fatalf("sender: %v; receiver: %v", sendErr, recvErr)
	}
	sameFile(t, src, dst)
	onlyEntries(t, dir, "dst.bin", "src.bin")
	if atReceiver.Load() == 0 || atSender.Load() == 0 {
		t.Fatalf("damaged datagrams reported: %d at the receiver, %d at the sender; want some at each", atReceiver.Load(), atSender.Load())
	}
	t.Logf("damaged datagrams caught: %d at the receiver, %d at the sender; sender %+v", atReceiver.Load(), atSender.Load(), s.sender.Progress())
}

func TestTransferIPv6(t *testing.T) {
	ctx := axontest.Context(t)
	rx := udp.PostboxPeer(udp.Local("[::1]:0"))
	if rx.Err() != nil {
		t.Skipf("no IPv6 loopback here (%v): skipping", rx.Err())
	}
	dir := t.TempDir()
	src := writeFile(t, dir, 100_000, 6)
	dst := filepath.Join(dir, "dst.bin")
	hr := axon.Start(ctx, transfer.ReceiveGraph(transfer.Receiver(dst, transfer.Linger(100*time.Millisecond)), rx, nil, nil))
	tx := udp.SimplePeer(udp.Local("[::1]:0"), udp.RemoteAddr(rx.LocalAddr()))
	if err := axon.Run(ctx, transfer.SendGraph(transfer.Sender(src), tx, nil, nil)); err != nil {
		t.Fatalf("sender: %v", err)
	}
	if err := hr.Wait(); err != nil {
		t.Fatalf("receiver: %v", err)
	}
	sameFile(t, src, dst)
}
