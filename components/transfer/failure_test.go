package transfer_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/components/transfer"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// stage returns a component that sends fn's results for each message,
// in order: a hand-made piece of network for the tests.
func stage(fn func(m any) []any) *axon.Component {
	return axon.New("TestStage", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			for _, r := range fn(m) {
				if err := out.Send(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// wantError gets the next message on h's "errors" and checks that it is
// an *axon.BoxError from a component called name, about "inbox", around a
// *transfer.Error, wrapping want. It returns the error.
func wantError(t *testing.T, ctx context.Context, h *axon.Handle, name string, want error) error {
	t.Helper()
	m := axontest.Get(t, ctx, h, transfer.ErrorsBox)
	err, _ := m.(error)
	var be *axon.BoxError
	var te *transfer.Error
	if !errors.As(err, &be) || !errors.As(err, &te) {
		t.Fatalf("errors: got %T %v, want an *axon.BoxError around a *transfer.Error", m, m)
	}
	if !strings.HasPrefix(be.Component, name+"#") || be.Box != "inbox" || !errors.Is(err, want) {
		t.Fatalf("errors: got %q (component %q, box %q), want one from %s about inbox wrapping %v", err, be.Component, be.Box, name, want)
	}
	return err
}

func TestReceiverIgnoresAndReportsGarbage(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	src := writeFile(t, dir, 5000, 1)
	dst := filepath.Join(dir, "dst.bin")
	s := &setup{}
	s.start(t, src, dst)
	hr := axon.Start(ctx, s.recvGraph)
	axontest.Tap(t, hr, transfer.ErrorsBox)

	raw, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(s.recvPeer.LocalAddr()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, b := range [][]byte{
		[]byte("hello"),
		(&transfer.Packet{Type: transfer.TypeAck, ID: 5, Next: 1}).Marshal(),
		(&transfer.Packet{Type: transfer.TypeData, ID: 5, Seq: 0, Payload: []byte("x")}).Marshal(),
	} {
		if _, err := raw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	_, perr := transfer.Parse([]byte("hello"))
	want := s.receiver.String() + ".inbox: parse from " + raw.LocalAddr().String() + ": " + perr.Error()
	if err := wantError(t, ctx, hr, "Receiver", transfer.ErrMalformed); err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	wantError(t, ctx, hr, "Receiver", transfer.ErrForeign)
	wantError(t, ctx, hr, "Receiver", transfer.ErrForeign)

	// The receiver carries on: a real transfer still works.
	hs := axon.Start(ctx, s.sendGraph)
	if err := hs.Wait(); err != nil {
		t.Fatalf("sender: %v", err)
	}
	if err := hr.Wait(); err != nil {
		t.Fatalf("receiver: %v", err)
	}
	sameFile(t, src, dst)
}

func TestSenderIgnoresAndReportsGarbage(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	src := writeFile(t, dir, 5000, 2)
	dst := filepath.Join(dir, "dst.bin")
	first := true
	s := &setup{fromNet: func() []axon.Node {
		// Before the first reply, a datagram of nonsense, a DONE of
		// another transfer and a message of the wrong type.
		return []axon.Node{stage(func(m any) []any {
			if !first {
				return []any{m}
			}
			first = false
			return []any{[]byte("nonsense"), (&transfer.Packet{Type: transfer.TypeDone, ID: 1, Status: transfer.StatusMismatch}).Marshal(), 42, m}
		})}
	}}
	s.start(t, src, dst)
	hr := axon.Start(ctx, s.recvGraph)
	// The errors go through a stage that holds them until the test
	// reads them: none is lost to the log before the test is ready.
	hs := axon.Start(ctx, chassis.Graphline(chassis.Nodes{"G": s.sendGraph, "C": stage(func(m any) []any { return []any{m} })},
		chassis.Links{
			{"G", transfer.ErrorsBox}: {"C", "inbox"},
			{"G", "signal"}:           {"C", "control"},
			{"C", "outbox"}:           {chassis.Self, transfer.ErrorsBox},
		}))
	wantError(t, ctx, hs, "Sender", transfer.ErrMalformed)
	wantError(t, ctx, hs, "Sender", transfer.ErrForeign)
	wantError(t, ctx, hs, "Sender", transfer.ErrBadMessage)
	if err := hs.Wait(); err != nil {
		t.Fatalf("sender: %v", err)
	}
	if err := hr.Wait(); err != nil {
		t.Fatalf("receiver: %v", err)
	}
	sameFile(t, src, dst)
}

func TestReceiverTimeoutLeavesNothing(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	s := &setup{ropts: []transfer.Option{transfer.Timeout(200 * time.Millisecond)}}
	s.start(t, writeFile(t, dir, 10, 3), filepath.Join(dir, "dst.bin"))
	err := axon.Run(ctx, s.recvGraph)
	if !errors.Is(err, transfer.ErrTimeout) {
		t.Fatalf("receiver ended with %v, want ErrTimeout", err)
	}
	onlyEntries(t, dir, "src.bin")
}

func TestSenderTimeoutWithNoReceiver(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	// A socket that never answers.
	deaf, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer deaf.Close()
	peer := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.Remote(deaf.LocalAddr().String()))
	s := transfer.Sender(writeFile(t, dir, 10, 4), transfer.Timeout(300*time.Millisecond))
	err = axon.Run(ctx, transfer.SendGraph(s, peer, nil, nil))
	if !errors.Is(err, transfer.ErrTimeout) || !strings.Contains(err.Error(), "no reply to START") {
		t.Fatalf("sender ended with %v, want ErrTimeout for START", err)
	}
}

func TestDigestMismatch(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	src := writeFile(t, dir, 10_000, 5)
	dst := filepath.Join(dir, "dst.bin")
	// A network that changes one byte of chunk 0 the first time it
	// passes, and the checksum to match, as if the file had changed
	// under the sender: only the digest can tell.
	damaged := false
	s := &setup{toNet: func() []axon.Node {
		return []axon.Node{stage(func(m any) []any {
			b := m.([]byte)
			if p, err := transfer.Parse(b); err == nil && p.Type == transfer.TypeData && p.Seq == 0 && !damaged {
				damaged = true
				c := append([]byte(nil), b...)
				c[len(c)-1] ^= 0xff
				return []any{transfer.Reseal(c)}
			}
			return []any{m}
		})}
	}}
	sendErr, recvErr := s.run(t, ctx, src, dst)
	if !errors.Is(sendErr, transfer.ErrMismatch) || !errors.Is(recvErr, transfer.ErrMismatch) {
		t.Fatalf("sender: %v; receiver: %v; want both ErrMismatch", sendErr, recvErr)
	}
	onlyEntries(t, dir, "src.bin")
}

// slowSetup returns a setup whose transfer takes a while: the way to the
// receiver is a 400 kB/s link.
func slowSetup(sopts ...transfer.Option) *setup {
	return &setup{sopts: sopts, toNet: func() []axon.Node {
		return []axon.Node{simulate.RateLimit(400_000, simulate.Block())}
	}}
}

// waitTemp waits until r has a temporary file on disk.
func waitTemp(t *testing.T, ctx context.Context, r *transfer.ReceiverComponent) string {
	t.Helper()
	for ctx.Err() == nil {
		if name := r.TempName(); name != "" {
			if _, err := os.Stat(name); err == nil {
				return name
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("no temporary file appeared")
	return ""
}

func TestShutdownMidTransferRemovesTemp(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	src := writeFile(t, dir, 2<<20, 6)
	s := slowSetup(transfer.Timeout(500 * time.Millisecond))
	s.start(t, src, filepath.Join(dir, "dst.bin"))
	hr := axon.Start(ctx, s.recvGraph)
	hs := axon.Start(ctx, s.sendGraph)
	tmp := waitTemp(t, ctx, s.receiver)
	if !strings.HasPrefix(filepath.Base(tmp), ".dst.bin.part-") || filepath.Dir(tmp) != dir {
		t.Fatalf("temporary file %s: want .dst.bin.part-* in %s", tmp, dir)
	}
	axontest.Put(t, ctx, hr, axon.ControlName, axon.ShutdownMicroprocess{})
	if err := hr.Wait(); err != nil {
		t.Fatalf("receiver: %v", err)
	}
	onlyEntries(t, dir, "src.bin")
	// The sender, left without replies, gives up.
	if err := hs.Wait(); !errors.Is(err, transfer.ErrTimeout) {
		t.Fatalf("sender ended with %v, want ErrTimeout", err)
	}
}

func TestReceiverRefusesSecondTransfer(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	src := writeFile(t, dir, 400_000, 7)
	dst := filepath.Join(dir, "dst.bin")
	s := slowSetup()
	s.start(t, src, dst)
	hr := axon.Start(ctx, s.recvGraph)
	hs := axon.Start(ctx, s.sendGraph)
	waitTemp(t, ctx, s.receiver)

	other := transfer.Sender(src)
	peer := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(s.recvPeer.LocalAddr()))
	err := axon.Run(ctx, transfer.SendGraph(other, peer, nil, nil))
	if !errors.Is(err, transfer.ErrRefused) {
		t.Fatalf("second sender ended with %v, want ErrRefused", err)
	}
	if err := hs.Wait(); err != nil {
		t.Fatalf("first sender: %v", err)
	}
	if err := hr.Wait(); err != nil {
		t.Fatalf("receiver: %v", err)
	}
	sameFile(t, src, dst)
}

func TestSenderFileErrors(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	for name, path := range map[string]string{"missing": filepath.Join(dir, "nothing"), "directory": dir} {
		peer := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.Remote("127.0.0.1:9"))
		err := axon.Run(ctx, transfer.SendGraph(transfer.Sender(path), peer, nil, nil))
		if !errors.Is(err, transfer.ErrFile) {
			t.Errorf("%s: sender ended with %v, want ErrFile", name, err)
		}
	}
}

func TestBadOptions(t *testing.T) {
	ctx := axontest.Context(t)
	for name, opt := range map[string]transfer.Option{
		"chunk 0":     transfer.ChunkSize(0),
		"chunk big":   transfer.ChunkSize(transfer.MaxChunkSize + 1),
		"window 0":    transfer.Window(0),
		"timeout 0":   transfer.Timeout(0),
		"linger -1ns": transfer.Linger(-1),
	} {
		if err := axon.Run(ctx, transfer.Sender("x", opt)); !errors.Is(err, transfer.ErrConfig) {
			t.Errorf("Sender with %s: %v, want ErrConfig", name, err)
		}
		if err := axon.Run(ctx, transfer.Receiver("x", opt)); !errors.Is(err, transfer.ErrConfig) {
			t.Errorf("Receiver with %s: %v, want ErrConfig", name, err)
		}
	}
}

// A receiver driven by hand: repeated START, DATA and END are answered
// again, the same way, and the file is written once.
func TestReceiverRepeatsAreIdempotent(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	dst := filepath.Join(dir, "dst.bin")
	s := &setup{}
	s.start(t, filepath.Join(dir, "unused"), dst)
	hr := axon.Start(ctx, s.recvGraph)
	raw, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(s.recvPeer.LocalAddr()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	send := func(p transfer.Packet) {
		t.Helper()
		if _, err := raw.Write(p.Marshal()); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(want transfer.Packet) {
		t.Helper()
		_ = raw.SetReadDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, 65536)
		n, err := raw.Read(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := transfer.Parse(b[:n])
		if err != nil || got.Type != want.Type || got.ID != want.ID || got.Window != want.Window ||
			got.Next != want.Next || got.Status != want.Status || len(got.SACK) != len(want.SACK) {
			t.Fatalf("reply %+v, %v; want %+v", got, err, want)
		}
		for i := range want.SACK {
			if got.SACK[i] != want.SACK[i] {
				t.Fatalf("reply %+v; want %+v", got, want)
			}
		}
	}
	const id = 0xabcdef
	start := transfer.Packet{Type: transfer.TypeStart, ID: id, Size: 7, ChunkSize: 3, Chunks: 3, Window: 4}
	send(start)
	expect(transfer.Packet{Type: transfer.TypeAccept, ID: id, Window: 4})
	send(start)
	expect(transfer.Packet{Type: transfer.TypeAccept, ID: id, Window: 4})
	// Chunk 2 first: a gap, acknowledged at once with chunk 2 marked.
	send(transfer.Packet{Type: transfer.TypeData, ID: id, Seq: 2, Payload: []byte("g")})
	expect(transfer.Packet{Type: transfer.TypeAck, ID: id, Next: 0, SACK: []byte{0b10}})
	send(transfer.Packet{Type: transfer.TypeData, ID: id, Seq: 0, Payload: []byte("abc")})
	expect(transfer.Packet{Type: transfer.TypeAck, ID: id, Next: 1, SACK: []byte{0b1}})
	// END too early is answered with where the receiver is.
	var end transfer.Packet
	end.Type, end.ID, end.Digest = transfer.TypeEnd, id, sha256.Sum256([]byte("abcdefg"))
	send(end)
	expect(transfer.Packet{Type: transfer.TypeAck, ID: id, Next: 1, SACK: []byte{0b1}})
	send(transfer.Packet{Type: transfer.TypeData, ID: id, Seq: 1, Payload: []byte("def")})
	expect(transfer.Packet{Type: transfer.TypeAck, ID: id, Next: 3})
	send(transfer.Packet{Type: transfer.TypeData, ID: id, Seq: 1, Payload: []byte("def")})
	expect(transfer.Packet{Type: transfer.TypeAck, ID: id, Next: 3})
	send(end)
	expect(transfer.Packet{Type: transfer.TypeDone, ID: id, Status: transfer.StatusOK})
	send(end)
	expect(transfer.Packet{Type: transfer.TypeDone, ID: id, Status: transfer.StatusOK})
	send(start)
	expect(transfer.Packet{Type: transfer.TypeDone, ID: id, Status: transfer.StatusOK})
	if err := hr.Wait(); err != nil {
		t.Fatalf("receiver: %v", err)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "abcdefg" {
		t.Fatalf("file %q, %v; want \"abcdefg\"", b, err)
	}
	if p := s.receiver.Progress(); p.Packets != 4 || p.Retransmits != 1 {
		t.Fatalf("progress %+v, want 4 DATA packets with 1 repeat", p)
	}
	onlyEntries(t, dir, "dst.bin")
}

// A receiver that cannot create its file tells the sender why.
func TestReceiverFileError(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	s := &setup{}
	sendErr, recvErr := s.run(t, ctx, writeFile(t, dir, 100, 8), filepath.Join(dir, "no", "such", "dir", "dst.bin"))
	if !errors.Is(sendErr, transfer.ErrRemote) || !strings.Contains(sendErr.Error(), "create") {
		t.Errorf("sender ended with %v, want ErrRemote saying what failed", sendErr)
	}
	if !errors.Is(recvErr, transfer.ErrFile) || !errors.Is(recvErr, os.ErrNotExist) {
		t.Errorf("receiver ended with %v, want ErrFile wrapping ErrNotExist", recvErr)
	}
	onlyEntries(t, dir, "src.bin")
}

// dropFirst returns a stage that drops the first n packets of type typ
// and passes everything else. Messages are []byte (towards the network)
// or udp.Datagram (from it).
func dropFirst(typ transfer.Type, n int) *axon.Component {
	dropped := 0
	return stage(func(m any) []any {
		b, ok := m.([]byte)
		if d, isD := m.(udp.Datagram); isD {
			b, ok = d.Data, true
		}
		if p, err := transfer.Parse(b); ok && err == nil && p.Type == typ && dropped < n {
			dropped++
			return nil
		}
		return []any{m}
	})
}

// A DONE that is lost after the timeout has backed off is asked for again
// before the Receiver stops lingering: END is repeated at the short
// control interval, not at the data's backed-off timeout, so the sender
// learns that the file arrived instead of failing.
func TestLostDoneAfterBackOff(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	src, dst := writeFile(t, dir, 5, 9), filepath.Join(dir, "dst.bin")
	s := &setup{
		sopts: []transfer.Option{transfer.Timeout(5 * time.Second)},
		ropts: []transfer.Option{transfer.Linger(300 * time.Millisecond)},
		// The first START and the first two DATA are lost: no round trip
		// is measured, and the data's timeout backs off past the Linger.
		toNet: func() []axon.Node {
			return []axon.Node{dropFirst(transfer.TypeStart, 1), dropFirst(transfer.TypeData, 2)}
		},
		fromNet: func() []axon.Node { return []axon.Node{dropFirst(transfer.TypeDone, 1)} },
	}
	sendErr, recvErr := s.run(t, ctx, src, dst)
	if sendErr != nil || recvErr != nil {
		t.Fatalf("sender %v, receiver %v; want both to succeed", sendErr, recvErr)
	}
	sameFile(t, src, dst)
}

// A file that grows while it is sent is not reported as sent: the Sender
// checks its size against START's before the first END.
func TestSenderFileGrows(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.bin")
	if err := os.WriteFile(src, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := axon.Start(ctx, transfer.Sender(src, transfer.Timeout(5*time.Second)))
	next := func(want transfer.Type) transfer.Packet {
		t.Helper()
		m := axontest.Get(t, ctx, h, axon.OutboxName)
		p, err := transfer.Parse(m.([]byte))
		if err != nil || p.Type != want {
			t.Fatalf("sender sent %v, %v; want a %v", p.Type, err, want)
		}
		return p
	}
	start := next(transfer.TypeStart)
	f, err := os.OpenFile(src, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("defgh"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	reply := func(p transfer.Packet) {
		t.Helper()
		p.ID = start.ID
		axontest.Put(t, ctx, h, axon.InboxName, p.Marshal())
	}
	reply(transfer.Packet{Type: transfer.TypeAccept, Window: 4})
	next(transfer.TypeData)
	reply(transfer.Packet{Type: transfer.TypeAck, Next: 1})
	err = h.Wait()
	if !errors.Is(err, transfer.ErrFile) || !strings.Contains(err.Error(), "changed size") {
		t.Fatalf("sender ended with %v, want ErrFile saying the file changed size", err)
	}
}

// An option meant for the other side is refused by name.
func TestOptionsForTheOtherSideAreRefused(t *testing.T) {
	ctx := axontest.Context(t)
	dir := t.TempDir()
	for _, c := range []struct {
		node   axon.Node
		option string
	}{
		{transfer.Sender(writeFile(t, dir, 10, 1), transfer.Linger(time.Second)), "Linger"},
		{transfer.Receiver(filepath.Join(dir, "out"), transfer.ChunkSize(100)), "ChunkSize"},
	} {
		err := axon.Run(ctx, c.node)
		if !errors.Is(err, transfer.ErrConfig) || !strings.Contains(err.Error(), c.option) {
			t.Errorf("%v given %s: %v, want ErrConfig naming it", c.node.Core(), c.option, err)
		}
	}
}
