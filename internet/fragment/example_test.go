package fragment_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/fragment"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// A Broadcaster sends a message too long for one datagram as fragments
// that each fit one.
func ExampleBroadcaster() {
	ctx := context.Background()
	b := fragment.Broadcaster(fragment.Topic("news"), fragment.DatagramSize(512))
	h := axon.Start(ctx, b)
	h.Put(ctx, "inbox", strings.Repeat("extra! ", 150)) // 1050 bytes
	for range 3 {
		m, _ := h.Get(ctx, "outbox")
		d := m.([]byte)
		f, _ := fragment.Parse(d)
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
	receiver := axon.Start(ctx, chassis.Pipeline(in, fragment.Listener(fragment.Topics("weather"))))

	sender := axon.Start(ctx, chassis.Pipeline(
		util.DataSource([]fragment.Message{
			{Topic: "sport", Data: []byte("no score yet")},
			{Topic: "weather", Data: []byte(strings.Repeat("rain, ", 1000))},
		}),
		fragment.Broadcaster(),
		udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(in.LocalAddr())),
	))
	sender.Wait()

	m, _ := receiver.Get(ctx, "outbox")
	msg := m.(fragment.Message)
	fmt.Printf("%s: %d bytes: %s...\n", msg.Topic, len(msg.Data), msg.Data[:11])
	receiver.Stop()
	receiver.Wait()
	// Output:
	// weather: 6000 bytes: rain, rain,...
}

// A Splitter and a Reassembler work without components: here the
// fragments arrive shuffled, and one of them twice.
func ExampleNewReassembler() {
	f, _ := fragment.NewSplitter(fragment.DatagramSize(512))
	seq, _ := f.SplitTopic("log", []byte(strings.Repeat("0123456789", 200)))
	datagrams := slices.Collect(seq)
	rand.Shuffle(len(datagrams), func(i, j int) { datagrams[i], datagrams[j] = datagrams[j], datagrams[i] })
	datagrams = append(datagrams, datagrams[0])

	r, _ := fragment.NewReassembler()
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

// A Splitter numbers each message and cuts it into datagrams of at most
// DatagramSize bytes, header included.
func ExampleNewSplitter() {
	s, _ := fragment.NewSplitter(fragment.Topic("log"), fragment.DatagramSize(512))
	seq, _ := s.Split([]byte(strings.Repeat("x", 1000)))
	for d := range seq {
		p, _ := fragment.Parse(d)
		fmt.Printf("%d bytes: part %d of %d, %d of the message's %d bytes\n", len(d), p.Index, p.Count, len(p.Data), p.Total)
	}
	// Output:
	// 512 bytes: part 0 of 3, 479 of the message's 1000 bytes
	// 512 bytes: part 1 of 3, 479 of the message's 1000 bytes
	// 75 bytes: part 2 of 3, 42 of the message's 1000 bytes
}

// Parse reads one fragment's header and finds its piece of the message,
// and Append writes one; what is not a fragment is refused.
func ExampleParse() {
	d, _ := fragment.Part{ID: 7, Count: 1, Total: 5, Size: 5, Topic: []byte("t"), Data: []byte("hello")}.Append(nil)
	p, err := fragment.Parse(d)
	fmt.Printf("%d-byte datagram: message %d, topic %q, %q, %v\n", len(d), p.ID, p.Topic, p.Data, err)
	_, err = fragment.Parse([]byte("hello"))
	fmt.Println(err)
	// Output:
	// 36-byte datagram: message 7, topic "t", "hello", <nil>
	// fragment: bad magic
}

// Plain UDP carries a message far bigger than one datagram (64 KiB at
// most): a Broadcaster in front of one udp peer, a Listener behind
// another, over loopback.
func Example_udp() {
	ctx := context.Background()
	in := udp.PostboxPeer(udp.Local("127.0.0.1:0"), udp.ReadBuffer(4<<20))
	receiver := axon.Start(ctx, chassis.Pipeline(in, fragment.Listener()))

	big := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16) // 200 KiB
	sender := axon.Start(ctx, chassis.Pipeline(
		util.DataSource([][]byte{big}),
		fragment.Broadcaster(fragment.Rate(16<<20)),
		udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(in.LocalAddr())),
	))
	sender.Wait()

	m, _ := receiver.Get(ctx, "outbox")
	msg := m.(fragment.Message)
	fmt.Printf("%d bytes, intact: %v\n", len(msg.Data), bytes.Equal(msg.Data, big))
	receiver.Stop()
	receiver.Wait()
	// Output:
	// 204800 bytes, intact: true
}
