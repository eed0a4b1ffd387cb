package multicast_test

import (
	"context"
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/multicast"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// A Sender and a Receiver of one group, over the loopback interface: the
// Receiver gets the datagram from lo's address.
func ExampleSender() {
	ctx := context.Background()
	const group = "239.255.77.1:26077"
	r := multicast.Receiver(group, multicast.Interface("lo"))
	s := multicast.Sender(group, multicast.Interface("lo"), multicast.TTL(1))
	hr, hs := axon.Start(ctx, r), axon.Start(ctx, s)

	hs.Put(ctx, "inbox", "hello, group")
	msg, _ := hr.Get(ctx, "outbox")
	d := msg.(udp.Datagram)
	fmt.Printf("%q from %s\n", d.Data, d.From.Addr())

	hs.Stop()
	hr.Stop()
	hs.Wait()
	hr.Wait()
	// Output:
	// "hello, group" from 127.0.0.1
}

// Two Receivers of one group on one host both get every datagram.
func ExampleReceiver() {
	ctx := context.Background()
	const group = "239.255.77.2:26077"
	one := axon.Start(ctx, multicast.Receiver(group, multicast.Interface("lo")))
	two := axon.Start(ctx, multicast.Receiver(group, multicast.Interface("lo")))
	s := axon.Start(ctx, multicast.Sender(group, multicast.Interface("lo")))

	s.Put(ctx, "inbox", "to all of you")
	for _, h := range []*axon.Handle{one, two} {
		msg, _ := h.Get(ctx, "outbox")
		fmt.Printf("a Receiver got %q\n", msg.(udp.Datagram).Data)
	}

	for _, h := range []*axon.Handle{s, one, two} {
		h.Stop()
		h.Wait()
	}
	// Output:
	// a Receiver got "to all of you"
	// a Receiver got "to all of you"
}

// Two Transceivers of one group: each hears the other, and itself.
func ExampleTransceiver() {
	ctx := context.Background()
	const group = "239.255.77.3:26077"
	alice := axon.Start(ctx, multicast.Transceiver(group, multicast.Interface("lo")))
	bob := axon.Start(ctx, multicast.Transceiver(group, multicast.Interface("lo")))

	alice.Put(ctx, "inbox", "hello from alice")
	for _, h := range []*axon.Handle{alice, bob} {
		msg, _ := h.Get(ctx, "outbox")
		fmt.Printf("%q\n", msg.(udp.Datagram).Data)
	}

	alice.Stop()
	bob.Stop()
	alice.Wait()
	bob.Wait()
	// Output:
	// "hello from alice"
	// "hello from alice"
}
