package chassis

import (
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Pipeline chains components: each child's "outbox" feeds the next one's
// "inbox", and each child's "signal" feeds the next one's "control", so a
// ProducerFinished from the first travels down the line after its data.
//
// Boxes (all passthrough):
//
//	inbox   (in)  reaches the first child's "inbox"
//	control (in)  reaches the first child's "control"
//	outbox  (out) what the last child sends on its "outbox"
//	signal  (out) what the last child sends on its "signal"
//
// The Pipeline ends when every child has ended. A wiring error (a child
// that already belongs to another graph, say) is reported when the
// Pipeline runs, naming the boxes involved.
func Pipeline(children ...axon.Node) *axon.Component {
	return pipeline("Pipeline", false, children)
}

// CircularPipeline is a Pipeline whose last child's "outbox" and "signal"
// feed back into the first child's "inbox" and "control". Its own "inbox"
// and "control" still reach the first child; its "outbox" and "signal"
// carry nothing.
func CircularPipeline(children ...axon.Node) *axon.Component {
	return pipeline("CircularPipeline", true, children)
}

func pipeline(name string, circular bool, children []axon.Node) *axon.Component {
	p := axon.New(name, nil,
		axon.WithInbox(axon.InboxName, "passed to the first child's inbox", axon.PassthroughOnly()),
		axon.WithInbox(axon.ControlName, "passed to the first child's control", axon.PassthroughOnly()))
	if err := wirePipeline(p, circular, children); err != nil {
		p.FailOnStart(err)
	}
	return p
}

func wirePipeline(p *axon.Component, circular bool, children []axon.Node) error {
	// Stages are named by place in paths, "1:Name", so that metrics tell
	// apart stages of the same kind.
	p.NameChildrenByPlace()
	if len(children) == 0 {
		return fmt.Errorf("%s: %w: no children", p, axon.ErrBadLink)
	}
	for i, k := range children {
		if !isNode(k) {
			return fmt.Errorf("%s: child %d: %w: nil component", p, i, axon.ErrBadLink)
		}
		if err := p.AddChild(k); err != nil {
			return err
		}
	}
	first, last := children[0], children[len(children)-1]
	if err := axon.Link(p, axon.InboxName, first, axon.InboxName); err != nil {
		return err
	}
	if err := axon.Link(p, axon.ControlName, first, axon.ControlName); err != nil {
		return err
	}
	for i := 0; i+1 < len(children); i++ {
		if err := linkNeighbours(children[i], children[i+1]); err != nil {
			return err
		}
	}
	if circular {
		return linkNeighbours(last, first)
	}
	if err := axon.Link(last, axon.OutboxName, p, axon.OutboxName); err != nil {
		return err
	}
	return axon.Link(last, axon.SignalName, p, axon.SignalName)
}

// linkNeighbours joins a's outbox to b's inbox and a's signal to b's control.
func linkNeighbours(a, b axon.Node) error {
	if err := axon.Link(a, axon.OutboxName, b, axon.InboxName); err != nil {
		return err
	}
	return axon.Link(a, axon.SignalName, b, axon.ControlName)
}

// failed marks a chassis that could not be wired so that running it
// reports err, naming it; c may be nil if the mistake was found before the
// chassis was made.
func failed(c *axon.Component, name string, err error) *axon.Component {
	if c == nil {
		return axon.Invalid(name, err)
	}
	c.FailOnStart(err)
	return c
}
