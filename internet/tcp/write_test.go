package tcp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/internet/tcp/tcptest"
)

// What queues in a connection's inbox is written together, many messages
// to a write: every byte arrives, in order, []byte and string alike, the
// empty messages write nothing, a message of the wrong type in the middle
// is reported and skipped, and more than one write's worth (a few hundred
// KiB) goes through too. Then the producer's ProducerFinished half-closes
// the connection.
func TestClientWritesBurstInOrder(t *testing.T) {
	ctx := axontest.Context(t)
	ln := tcptest.Listen(t)
	var want bytes.Buffer
	var msgs []any
	for i := range 4000 {
		s := strings.Repeat(string(rune('a'+i%26)), i%300)
		switch i % 3 {
		case 0:
			msgs = append(msgs, []byte(s))
		default:
			msgs = append(msgs, s)
		}
		want.WriteString(s)
		if i == 1234 {
			msgs = append(msgs, 3.5)
		}
	}
	c := tcp.Client(ln.Addr().String())
	src := axontest.Burst("Burst", msgs...)
	for _, l := range [][2]string{{axon.OutboxName, axon.InboxName}, {axon.SignalName, axon.ControlName}} {
		if err := axon.Link(src, l[0], c, l[1]); err != nil {
			t.Fatal(err)
		}
	}
	h := axontest.Start(t, ctx, c)
	axontest.Tap(t, h, tcp.ErrorsBox)
	peer := tcptest.Accept(t, ln)
	axontest.Start(t, ctx, src)
	if got := tcptest.ReadToEOF(t, peer); got != want.String() {
		t.Fatalf("peer read %d bytes, want the %d sent, in order (first difference at byte %d)", len(got), want.Len(), firstDiff(got, want.String()))
	}
	m := axontest.Get(t, ctx, h, tcp.ErrorsBox)
	var te *tcp.Error
	if e, ok := m.(error); !ok || !errors.As(e, &te) || !errors.Is(e, tcp.ErrBadMessage) || !strings.Contains(e.Error(), "float64") {
		t.Fatalf("errors: got %v, want an *Error wrapping ErrBadMessage naming float64", m)
	}
	peer.Close()
	expectFinished(t, ctx, h, nil)
	axontest.Wait(t, h)
}

// firstDiff returns the index of the first byte where a and b differ.
func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// BenchmarkClientBurst sends b.N messages of 64 bytes through a Client,
// in bursts of 1,000, to a peer that reads and throws them away: the
// cost of a message when many are queued for the socket at once.
func BenchmarkClientBurst(b *testing.B) {
	const size, per = 64, 1000
	ln := tcptest.Listen(b)
	read := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			read <- 0
			return
		}
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		read <- n
	}()
	msg := make([]byte, size)
	src := axon.New("Bursts", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		for sent := 0; sent < b.N; sent += per {
			err := c.Batch(ctx, func(ctx context.Context) error {
				for range min(per, b.N-sent) {
					if err := out.Send(ctx, msg); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return c.Finish(ctx)
	})
	c := tcp.Client(ln.Addr().String())
	for _, l := range [][2]string{{axon.OutboxName, axon.InboxName}, {axon.SignalName, axon.ControlName}} {
		if err := axon.Link(src, l[0], c, l[1]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(size)
	b.ResetTimer()
	ctx := context.Background()
	hc, hs := axon.Start(ctx, c), axon.Start(ctx, src)
	if err := errors.Join(hs.Wait(), hc.Wait()); err != nil {
		b.Fatal(err)
	}
	if n := <-read; n != int64(b.N)*size {
		b.Fatalf("peer read %d bytes, want %d", n, b.N*size)
	}
}
