package transfer

import (
	"context"
	"errors"
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
)

// SendGraph wires a Sender to the UDP peer that carries its datagrams (a
// udp.SimplePeer made with udp.Remote set to the receiver's address),
// with optional stages between them in each direction: toNet are placed
// in order between the Sender and the peer, fromNet between the peer and
// the Sender (internet/simulate stages, to try the transfer on a worse
// network than the real one). Any stage must pass shutdown messages on.
//
//	SENDER -> OUT0 -> ... -> PEER -> IN0 -> ... -> LAST -> SENDER.inbox
//
// Shutdown follows the data: the Sender's signal reaches the peer through
// the OUT stages, and the peer's goes on through the IN stages to LAST,
// so that the graph ends once the Sender has. LAST hands the replies to
// the Sender and, once the Sender has ended, drops what still comes
// (late replies, and those the stages held) instead of failing. The Sender's "errors" are the
// graph's "errors" outbox.
//
// Boxes of the graph: control (passed to the Sender), errors (the
// Sender's), signal (ProducerFinished when all have ended).
func SendGraph(s *SenderComponent, peer axon.Node, toNet, fromNet []axon.Node) *axon.Component {
	nodes := chassis.Nodes{"SENDER": s, "PEER": peer, "LAST": last()}
	links := chassis.Links{
		{"SENDER", ErrorsBox}: {chassis.Self, ErrorsBox},
		// LAST's signal goes nowhere: the Sender ends by itself.
		{"LAST", axon.OutboxName}: {"SENDER", axon.InboxName},
	}
	chain(nodes, links, "SENDER", "OUT", toNet, "PEER")
	chain(nodes, links, "PEER", "IN", fromNet, "LAST")
	return chassis.Graphline(nodes, links)
}

// ReceiveGraph wires a Receiver to the UDP peer it listens with (a
// udp.PostboxPeer bound to the listening address), with optional stages
// between them: fromNet between the peer and the Receiver (what the
// sender sends goes through them), toNet between the Receiver and the
// peer (replies).
//
//	PEER -> IN0 -> ... -> LAST -> RECEIVER -> OUT0 -> ... -> PEER.inbox
//
// The Receiver's signal reaches the peer through the OUT stages, and the
// peer's goes on through the IN stages to LAST, so that the graph ends
// once the Receiver has. LAST hands the datagrams to the Receiver and,
// once it has ended, drops what still comes. The Receiver's "errors" are the graph's "errors" outbox.
//
// Boxes of the graph: control (passed to the Receiver), errors (the
// Receiver's), signal (ProducerFinished when all have ended).
func ReceiveGraph(r *ReceiverComponent, peer axon.Node, fromNet, toNet []axon.Node) *axon.Component {
	nodes := chassis.Nodes{"RECEIVER": r, "PEER": peer, "LAST": last()}
	links := chassis.Links{
		{"RECEIVER", ErrorsBox}: {chassis.Self, ErrorsBox},
		// LAST's signal goes nowhere: the Receiver ends by itself.
		{"LAST", axon.OutboxName}: {"RECEIVER", axon.InboxName},
	}
	chain(nodes, links, "PEER", "IN", fromNet, "LAST")
	chain(nodes, links, "RECEIVER", "OUT", toNet, "PEER")
	return chassis.Graphline(nodes, links)
}

// chain links from -> stages -> to, outbox to inbox and signal to control,
// naming the stages prefix0, prefix1, ...
func chain(nodes chassis.Nodes, links chassis.Links, from, prefix string, stages []axon.Node, to string) {
	prev := from
	for i, n := range stages {
		name := fmt.Sprintf("%s%d", prefix, i)
		nodes[name] = n
		links[chassis.Box{prev, axon.OutboxName}] = chassis.Box{name, axon.InboxName}
		links[chassis.Box{prev, axon.SignalName}] = chassis.Box{name, axon.ControlName}
		prev = name
	}
	links[chassis.Box{prev, axon.OutboxName}] = chassis.Box{to, axon.InboxName}
	links[chassis.Box{prev, axon.SignalName}] = chassis.Box{to, axon.ControlName}
}

// last returns the component that ends the way in: it passes each message
// to the Sender or Receiver and, once that has ended, drops the rest
// until its own control says the way in has finished.
//
// Boxes:
//
//	inbox   (in)  datagrams, passed on unchanged
//	control (in)  ProducerFinished (pass on what is queued, then end) or
//	              ShutdownMicroprocess (end at once); passed on
//	outbox  (out) the datagrams, while what it leads to runs
//	signal  (out) the shutdown message that ended it
func last() *axon.Component {
	return axon.New("DeliverToEnd", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		gone := false
		return c.Serve(ctx, func(ctx context.Context, m any) error {
			if gone {
				return nil
			}
			err := out.Send(ctx, m)
			if errors.Is(err, axon.ErrReceiverDone) {
				gone = true
				return nil
			}
			return err
		})
	})
}
