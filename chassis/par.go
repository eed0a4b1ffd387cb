package chassis

import (
	"context"
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
)

// PAR runs its children side by side (Kamaelia's PAR) and merges what they
// send.
//
// Boxes:
//
//	inbox   (in)  not used
//	control (in)  handed to every child
//	outbox  (out) what any child sends on its "outbox", in arrival order
//	signal  (out) ProducerFinished when every child has ended, or the
//	              ShutdownMicroprocess that arrived on control and stopped
//	              them
func PAR(children ...axon.Node) *axon.Component {
	var opts []axon.Option
	var fanout []string
	for i := range children {
		box := fmt.Sprintf("control:%d", i)
		fanout = append(fanout, box)
		opts = append(opts, axon.WithOutbox(box, fmt.Sprintf("hands child %d what arrives on control", i)))
	}
	opts = append(opts, axon.WithInbox(axon.InboxName, "not used: senders wait", axon.PassthroughOnly()))
	p := axon.New("PAR", func(ctx context.Context, c *axon.Component) error {
		return supervise(ctx, c, fanout, true)
	}, opts...)
	for i, n := range children {
		if !isNode(n) {
			return failed(p, "PAR", fmt.Errorf("par: child %d: %w: nil component", i, axon.ErrBadLink))
		}
		if err := p.AddChild(n); err != nil {
			return failed(p, "PAR", err)
		}
		if err := axon.Link(n, axon.OutboxName, p, axon.OutboxName); err != nil {
			return failed(p, "PAR", err)
		}
		if err := axon.Link(p, fanout[i], n, axon.ControlName); err != nil {
			return failed(p, "PAR", err)
		}
	}
	return p
}
