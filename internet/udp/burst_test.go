package udp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/internet/udp/udptest"
)

// batching runs f with the default settings, where messages cross in
// batches, and with axon.Unbatched.
func batching(t *testing.T, f func(t *testing.T, opts ...axon.StartOption)) {
	t.Run("batched", func(t *testing.T) { f(t) })
	t.Run("unbatched", func(t *testing.T) { f(t, axon.Unbatched()) })
}

// A burst of payloads, many more than the inbox holds, goes out whole and
// in order, and the pipeline ends once the last has gone.
func TestBurstIsSentInOrder(t *testing.T) {
	batching(t, func(t *testing.T, opts ...axon.StartOption) {
		ctx := axontest.Context(t)
		far := listen(t, "127.0.0.1:0")
		if err := far.SetReadBuffer(1 << 20); err != nil {
			t.Fatal(err)
		}
		const n = 300 // fits far's buffer: nothing is lost on loopback
		var msgs []any
		for i := range n {
			if i%2 == 0 {
				msgs = append(msgs, fmt.Sprint("payload ", i))
			} else {
				msgs = append(msgs, []byte(fmt.Sprint("payload ", i)))
			}
		}
		p := udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(addr(far)))
		if err := axon.Run(ctx, chassis.Pipeline(axontest.Burst("BurstSource", msgs...), p), opts...); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if got, from := readFrom(t, far); got != fmt.Sprint("payload ", i) || from != p.LocalAddr() {
				t.Fatalf("datagram %d: got %q from %v", i, got, from)
			}
		}
		if st := p.Stats(); st.Sent != n || st.Errors != 0 {
			t.Fatalf("Stats = %+v, want %d sent", st, n)
		}
	})
}

// A PostboxPeer's burst goes to each packet's own destination; a bad
// packet in the middle is reported and the rest go on.
func TestPostboxBurstToManyDestinations(t *testing.T) {
	batching(t, func(t *testing.T, opts ...axon.StartOption) {
		ctx := axontest.Context(t)
		one, two := listen(t, "127.0.0.1:0"), listen(t, "127.0.0.1:0")
		var msgs []any
		var toOne, toTwo []string
		for i := range 100 {
			b := fmt.Sprint("packet ", i)
			switch {
			case i == 50:
				msgs = append(msgs, udp.PacketTo("no-port", []byte("bad")))
			case i%3 == 0:
				msgs = append(msgs, udp.Packet{To: addr(two), Data: []byte(b)})
				toTwo = append(toTwo, b)
			default:
				msgs = append(msgs, udp.Packet{To: addr(one), Data: []byte(b)})
				toOne = append(toOne, b)
			}
		}
		p := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
		var errs []*udp.Error
		collect := axon.New("Errors", func(ctx context.Context, c *axon.Component) error {
			return axon.ServeAs(ctx, c, func(_ context.Context, err error) error {
				var ue *udp.Error
				if !errors.As(err, &ue) {
					return fmt.Errorf("%v: no *udp.Error in it", err)
				}
				errs = append(errs, ue)
				return nil
			})
		}, axon.WithInbox(axon.InboxName, "the peer's errors", axon.Carries[error]()))
		g := chassis.Graphline(chassis.Nodes{"SRC": axontest.Burst("BurstSource", msgs...), "PEER": p, "ERRORS": collect}, chassis.Links{
			{"SRC", "outbox"}:  {"PEER", "inbox"},
			{"SRC", "signal"}:  {"PEER", "control"},
			{"PEER", "errors"}: {"ERRORS", "inbox"},
			{"PEER", "signal"}: {"ERRORS", "control"},
		})
		if err := axon.Run(ctx, g, opts...); err != nil {
			t.Fatal(err)
		}
		if len(errs) != 1 || !errors.Is(errs[0], udp.ErrBadAddress) || errs[0].Dropped != 1 {
			t.Fatalf("errors %v, want one ErrBadAddress", errs)
		}
		for _, w := range toOne {
			if got, _ := readFrom(t, one); got != w {
				t.Fatalf("got %q, want %q", got, w)
			}
		}
		for _, w := range toTwo {
			if got, _ := readFrom(t, two); got != w {
				t.Fatalf("got %q, want %q", got, w)
			}
		}
		if st := p.Stats(); st.Sent != 99 || st.Errors != 1 {
			t.Fatalf("Stats = %+v, want 99 sent and 1 error", st)
		}
	})
}

// Datagrams waiting in the socket when the peer starts are handed on in
// order, each with its sender and a payload of its own that can grow
// without touching another's.
func TestReceivedBurstIsHandedOnWhole(t *testing.T) {
	batching(t, func(t *testing.T, opts ...axon.StartOption) {
		ctx := axontest.Context(t)
		far := listen(t, "127.0.0.1:0")
		p := udp.PostboxPeer(udp.Local("127.0.0.1:0"), udp.ReadBuffer(1<<20))
		const n = 200
		for i := range n {
			if _, err := far.WriteToUDPAddrPort([]byte(fmt.Sprint("datagram ", i)), p.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		h := axontest.Start(t, ctx, p, append(opts, axon.Tapping(udp.ErrorsBox))...)
		var got []udp.Datagram
		for range n {
			got = append(got, udptest.Datagram(t, ctx, h))
		}
		for i, d := range got {
			want := []byte(fmt.Sprint("datagram ", i))
			if !bytes.Equal(d.Data, want) || d.From != addr(far) {
				t.Fatalf("datagram %d: %q from %v, want %q from %v", i, d.Data, d.From, want, addr(far))
			}
			if cap(d.Data) != len(d.Data) {
				t.Fatalf("datagram %d: capacity %d beyond its length %d: appending would write into another's", i, cap(d.Data), len(d.Data))
			}
			got[i].Data = append(d.Data, "!!!"...)
		}
		for i, d := range got {
			if want := fmt.Sprint("datagram ", i, "!!!"); string(d.Data) != want {
				t.Fatalf("datagram %d became %q, want %q", i, d.Data, want)
			}
		}
		axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester})
		if st := p.Stats(); st.Received != n || st.Errors != 0 {
			t.Fatalf("Stats = %+v, want %d received", st, n)
		}
	})
}

// A TargettedPeer told to finish with payloads queued and no target
// reports them all as dropped.
func TestNoTargetDropsWhatIsQueued(t *testing.T) {
	ctx := axontest.Context(t)
	p := udp.TargettedPeer(udp.Local("127.0.0.1:0"))
	var queued []any
	for i := range 10 {
		queued = append(queued, fmt.Sprint("queued ", i))
	}
	axontest.Preload(t, p, axon.InboxName, queued...)
	axontest.Preload(t, p, axon.ControlName, axon.ProducerFinished{From: axontest.Tester})
	h := udptest.Start(t, ctx, p)
	be, e := udptest.Error(t, ctx, h, udp.ErrNoTarget)
	if e.Dropped != len(queued) || be.Box != axon.InboxName {
		t.Fatalf("error %q (%+v): want %d dropped from the inbox", be, e, len(queued))
	}
	axontest.Wait(t, h)
}
