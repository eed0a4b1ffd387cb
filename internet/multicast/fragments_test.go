package multicast

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/fragment"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// Package fragment sits in front of a Sender and behind a Receiver as it
// does with plain udp peers: a message of many datagrams crosses a group
// on "lo" whole, and only the topic asked for is kept.
func TestFragmentsOverGroup(t *testing.T) {
	ctx := axontest.Context(t)
	g := group4(t)
	r := Receiver(g.String(), Interface("lo"), With(udp.ReadBuffer(4<<20)))
	l := fragment.Listener(fragment.Topics("big"))
	hr := axontest.Start(t, ctx, chassis.Pipeline(r, l))

	big := bytes.Repeat([]byte("multicast "), 30_000) // 300 kB, some 200 datagrams
	s := Sender(g.String(), Interface("lo"))
	hs := axontest.Start(t, ctx, chassis.Pipeline(
		util.DataSource([]fragment.Message{{Topic: "other", Data: []byte("dropped")}, {Topic: "big", Data: big}}),
		fragment.Broadcaster(fragment.Rate(16<<20)),
		s,
	))
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	m, err := hr.Get(wait, axon.OutboxName)
	if err != nil {
		t.Fatalf("no message: %v; Listener %+v, Receiver %+v", err, l.Stats(), r.Stats())
	}
	got := m.(fragment.Message)
	if got.Topic != "big" || !bytes.Equal(got.Data, big) || got.From.Port() != s.LocalAddr().Port() {
		t.Fatalf("got %d bytes on %q from %v, want %d on \"big\" from the Sender's port %d",
			len(got.Data), got.Topic, got.From, len(big), s.LocalAddr().Port())
	}
	axontest.Wait(t, hs)
	axontest.StopWith(t, ctx, hr, axon.ShutdownMicroprocess{From: axontest.Tester})
	if st := l.Stats(); st.Completed != 1 || st.Dropped.Unwanted != 1 {
		t.Errorf("Listener %+v, want 1 message completed and 1 fragment unwanted", st)
	}
}
