package multicast_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/multicast"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// A Broadcaster sends a message too long for one datagram as fragments
// that each fit one.
func ExampleBroadcaster() {
	ctx := context.Background()
	b := multicast.Broadcaster(multicast.Topic("news"), multicast.DatagramSize(512))
	h := axon.Start(ctx, b)
	h.Put(ctx, "inbox", strings.Repeat("extra! ", 150)) // 1050 bytes
	for range 3 {
		m, _ := h.Get(ctx, "outbox")
		d := m.([]byte)
		f, _ := multicast.ParseFragment(d)
		fmt.Printf("%d-byte datagram: fragment %d of %d, topic %q, %d of %d bytes\n",
			len(d), f.Index, f.Count, f.Topic, len(f.Data), f.Total)
	}
	h.Stop()
	h.Wait()
	// Output:
	// 512-byte datagram: fragment 0 of 3, topic "news", 478 of 1050 bytes
	// 512-byte datagram: fragment 1 of 3, topic "news", 478 of 1050 bytes
	// 128-byte datagram: fragment 2 of 3, topic "news", 94 of 1050 bytes
}

// A Broadcaster sends through a UDP peer to another, whose Listener puts
// the messages back together: mcl's RawBroadcaster and RawListener, over
// loopback. The Listener takes only the topics it is given.
func ExampleListener() {
	ctx := context.Background()
	in := udp.PostboxPeer(udp.Local("127.0.0.1:0"), udp.ReadBuffer(1<<20))
	receiver := axon.Start(ctx, chassis.Pipeline(in, multicast.Listener(multicast.Topics("weather"))))

	sender := axon.Start(ctx, chassis.Pipeline(
		util.DataSource([]multicast.Message{
			{Topic: "sport", Data: []byte("no score yet")},
			{Topic: "weather", Data: []byte(strings.Repeat("rain, ", 1000))},
		}),
		multicast.Broadcaster(),
		udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(in.LocalAddr())),
	))
	sender.Wait()

	m, _ := receiver.Get(ctx, "outbox")
	msg := m.(multicast.Message)
	fmt.Printf("%s: %d bytes: %s...\n", msg.Topic, len(msg.Data), msg.Data[:11])
	receiver.Stop()
	receiver.Wait()
	// Output:
	// weather: 6000 bytes: rain, rain,...
}

// A Fragmenter and a Reassembler work without components: here the
// fragments arrive shuffled, and one of them twice.
func ExampleReassembler() {
	f, _ := multicast.NewFragmenter(multicast.DatagramSize(512))
	seq, _ := f.SplitTopic("log", []byte(strings.Repeat("0123456789", 200)))
	datagrams := slices.Collect(seq)
	rand.Shuffle(len(datagrams), func(i, j int) { datagrams[i], datagrams[j] = datagrams[j], datagrams[i] })
	datagrams = append(datagrams, datagrams[0])

	r, _ := multicast.NewReassembler()
	from := netip.MustParseAddrPort("192.0.2.1:26000")
	for _, d := range datagrams {
		if msg, done, _ := r.Add(from, d); done {
			fmt.Printf("%q from %v: %d bytes\n", msg.Topic, msg.From, len(msg.Data))
		}
	}
	s := r.Stats()
	fmt.Printf("%d fragments, %d duplicate, %d message\n", s.Fragments, s.Dropped.Duplicate, s.Completed)
	// Output:
	// "log" from 192.0.2.1:26000: 2000 bytes
	// 5 fragments, 1 duplicate, 1 message
}
