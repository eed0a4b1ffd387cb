package fragment

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

// A message's fragments leave the Broadcaster many to a hand-off, in
// order, and still make the message.
func TestBroadcasterFragmentsCrossInBatches(t *testing.T) {
	ctx := axontest.Context(t)
	msg := pattern(11, 100_000) // 176 fragments of at most 600 bytes
	rec := axontest.NewHandOffs("Recorder")
	l := Listener()
	h := axontest.Start(t, ctx, chassis.Pipeline(
		Broadcaster(DatagramSize(600)),
		rec.Component(),
		toDatagram(alice),
		l,
	))
	<-rec.Ready() // its inbox is read in batches from now on
	axontest.Put(t, ctx, h, axon.InboxName, msg)
	if got := getMessage(t, ctx, h); !bytes.Equal(got.Data, msg) {
		t.Fatalf("got %d bytes, want the %d sent", len(got.Data), len(msg))
	}
	axontest.StopWith(t, ctx, h, axon.ProducerFinished{From: axontest.Tester}) // the recorder has ended: sizes is whole
	n, handOffs, most := rec.Count()
	frags := int(l.Stats().Fragments)
	if n != frags || most < 2 || handOffs > frags/2 {
		t.Fatalf("%d fragments crossed in %d hand-offs, the largest of %d; want all %d, at least two to a hand-off", n, handOffs, most, frags)
	}
	t.Logf("%d fragments in %d hand-offs: %v", n, handOffs, rec.Sizes())
}

// A Listener given many datagrams at once hands on every message, in
// order, whether they cross in batches or, in a graph run Unbatched, one
// at a time (more of them than its inbox holds, so a box that never freed
// its slots would stall).
func TestListenerManyMessages(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []axon.StartOption
	}{
		{"batched", nil},
		{"unbatched", []axon.StartOption{axon.Unbatched()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := axontest.Context(t)
			var msgs []any
			for i := range 300 {
				msgs = append(msgs, fmt.Sprintf("message %d", i))
				if i%100 == 50 {
					msgs = append(msgs, pattern(uint64(i), 20_000))
				}
			}
			l := Listener()
			h := axontest.Start(t, ctx, chassis.Pipeline(
				util.DataSource(msgs),
				Broadcaster(DatagramSize(600)),
				toDatagram(alice),
				l,
			), c.opts...)
			for i, m := range msgs {
				want, ok := m.([]byte)
				if !ok {
					want = []byte(m.(string))
				}
				if got := getMessage(t, ctx, h); !bytes.Equal(got.Data, want) {
					t.Fatalf("message %d: got %d bytes, want %d", i, len(got.Data), len(want))
				}
			}
			if sig := axontest.Get(t, ctx, h, axon.SignalName); !axon.IsProducerFinished(sig) {
				t.Fatalf("signal: %#v, want ProducerFinished", sig)
			}
			axontest.Wait(t, h)
			if s := l.Stats(); s.Completed != uint64(len(msgs)) || s.Dropped.Total() != 0 {
				t.Errorf("Stats = %+v", s)
			}
		})
	}
}
