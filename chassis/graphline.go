package chassis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Self names the Graphline itself in its Links.
const Self = "self"

// Nodes names the children of a Graphline.
type Nodes map[string]axon.Node

// Box names one box of one Graphline child, {node, box}, or of the
// Graphline itself when node is Self. It is an array rather than a struct
// so that links read as Kamaelia's did, {"SOURCE", "outbox"}, and still
// pass go vet outside this package.
type Box [2]string

// Node returns the child's name (or Self).
func (b Box) Node() string { return b[0] }

// Name returns the box's name.
func (b Box) Name() string { return b[1] }

// Links maps each source box to its destination, as Kamaelia's linkages
// dictionary does.
type Links map[Box]Box

// Graphline wires named children together along the given links, and
// nowhere else.
//
// A link from (Self, name) to a child's inbox makes name an inbox of the
// Graphline that passes through to the child; a link from a child's outbox
// to (Self, name) makes name an outbox of the Graphline fed by the child.
// Such boxes are created if the Graphline does not have them already.
//
// Boxes of its own:
//
//	inbox   (in)  nothing, unless a link passes it through to a child
//	control (in)  passed to every child whose "control" no link feeds
//	              (unless a link passes it through to a child)
//	outbox  (out) nothing, unless a link feeds it from a child
//	signal  (out) ProducerFinished when all children have ended (or the
//	              ShutdownMicroprocess that arrived on control and stopped
//	              them), unless a link feeds it from a child
//
// The Graphline ends when all its children have ended. An unknown child
// name, an unknown box, or a box linked twice is reported when the
// Graphline runs, naming both ends.
func Graphline(nodes Nodes, links Links) *axon.Component {
	g, err := graphline(nodes, links)
	if err != nil {
		return failed(g, "Graphline", err)
	}
	return g
}

func graphline(nodes Nodes, links Links) (*axon.Component, error) {
	names := slices.Sorted(maps.Keys(nodes))
	w, err := planGraph("graphline", names, links)
	if err != nil {
		return nil, err
	}
	g := axon.New("Graphline", func(ctx context.Context, c *axon.Component) error {
		return supervise(ctx, c, w.fanout, !w.signalFed)
	}, w.opts...)
	return g, wireGraph(g, "graphline", names, nodes, links, w)
}

// graphPlan is what a link table says about the container that holds the
// children it names (a Graphline, a Supervisor), worked out before the
// container is made.
type graphPlan struct {
	opts       []axon.Option   // the container's boxes that the links name
	fanout     []string        // its outboxes handing on what arrives on control
	fedControl map[string]bool // children whose control a link feeds
	signalFed  bool            // a link feeds the container's own signal
}

// planGraph reads links between the children called names and the
// container itself (Self); kind names the container in errors.
func planGraph(kind string, names []string, links Links) (graphPlan, error) {
	if slices.Contains(names, Self) {
		return graphPlan{}, fmt.Errorf("%s: %w: %q names the %s itself, not a child", kind, axon.ErrBadLink, Self, kind)
	}
	// The container's main loop never reads "inbox", so nothing may
	// queue there.
	w := graphPlan{
		opts:       []axon.Option{axon.WithInbox(axon.InboxName, "passed to a child if a link says so", axon.PassthroughOnly())},
		fedControl: map[string]bool{},
	}
	for from, to := range links {
		if from.Node() == Self && to.Node() == Self {
			return graphPlan{}, fmt.Errorf("%s: link %s -> %s: %w: both ends are the %s", kind, from, to, axon.ErrBadLink, kind)
		}
		if from.Node() == Self && !isDefault(from.Name()) {
			w.opts = append(w.opts, axon.WithInbox(from.Name(), "passes through to "+to.String(), axon.PassthroughOnly()))
		}
		if to.Node() == Self && !isDefault(to.Name()) {
			w.opts = append(w.opts, axon.WithOutbox(to.Name(), "fed by "+from.String()))
		}
		if to.Name() == axon.ControlName && to.Node() != Self {
			w.fedControl[to.Node()] = true
		}
		if to == (Box{Self, axon.SignalName}) {
			w.signalFed = true
		}
	}
	// One outbox per child whose control no link feeds, to hand on what
	// arrives on the container's own control.
	for _, n := range names {
		if !w.fedControl[n] {
			box := "control:" + n
			w.fanout = append(w.fanout, box)
			w.opts = append(w.opts, axon.WithOutbox(box, "hands "+n+" what arrives on control"))
		}
	}
	return w, nil
}

// wireGraph adds the children to g, made as w planned, and makes the
// links.
func wireGraph(g *axon.Component, kind string, names []string, nodes map[string]axon.Node, links Links, w graphPlan) error {
	for _, n := range names {
		if !isNode(nodes[n]) {
			return fmt.Errorf("%s: child %q: %w: nil component", kind, n, axon.ErrBadLink)
		}
		if err := g.AddNamedChild(n, nodes[n]); err != nil {
			return fmt.Errorf("%s: child %q: %w", kind, n, err)
		}
	}
	resolve := func(b Box) (axon.Node, error) {
		if b.Node() == Self {
			return g, nil
		}
		n, ok := nodes[b.Node()]
		if !ok {
			return nil, fmt.Errorf("%s: link names %s: %w: no child called %q", kind, b, axon.ErrBadLink, b.Node())
		}
		return n, nil
	}
	// Make links in a fixed order so errors are reproducible.
	for _, from := range slices.SortedFunc(maps.Keys(links), compareBox) {
		to := links[from]
		fn, err := resolve(from)
		if err != nil {
			return err
		}
		tn, err := resolve(to)
		if err != nil {
			return err
		}
		if err := axon.Link(fn, from.Name(), tn, to.Name()); err != nil {
			return fmt.Errorf("%s: %s -> %s: %w", kind, from, to, err)
		}
	}
	for _, n := range names {
		if !w.fedControl[n] {
			if err := axon.Link(g, "control:"+n, nodes[n], axon.ControlName); err != nil {
				return fmt.Errorf("%s: control to %q: %w", kind, n, err)
			}
		}
	}
	return nil
}

func (b Box) String() string { return fmt.Sprintf("(%q, %q)", b[0], b[1]) }

func compareBox(a, b Box) int { return slices.Compare(a[:], b[:]) }

func isDefault(box string) bool {
	switch box {
	case axon.InboxName, axon.ControlName, axon.OutboxName, axon.SignalName:
		return true
	}
	return false
}

// supervise is the main loop of a chassis whose children run side by side
// (Graphline, PAR): it hands whatever arrives on control to each of the
// named outboxes, and when every child has ended sends ProducerFinished on
// signal if finish is set.
//
// A ShutdownMicroprocess delivered to the chassis's control cancels its
// context and so its children's (see axon.ShutdownMicroprocess); supervise
// then returns and the runner passes that message on signal instead.
func supervise(ctx context.Context, c *axon.Component, fanout []string, finish bool) error {
	ctl := c.In(axon.ControlName)
	kidsDone := c.ChildrenDone()
	for {
		select {
		case msg := <-ctl:
			if stop, err := handOn(ctx, c, fanout, msg); stop || err != nil {
				return err
			}
		case <-kidsDone:
			return childrenEnded(ctx, c, finish)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// handOn hands msg, from c's control, on each of the outboxes named:
// to the children whose control no link feeds. A child that has ended
// no longer needs it.
//
// A ShutdownMicroprocess is passed on c's signal instead, and handOn
// reports stop: its delivery is stopping c, and its children with it, by
// their contexts. Handed to the children, it could end them before c's
// own context had ended, and c would take their end for a finish and send
// ProducerFinished.
func handOn(ctx context.Context, c *axon.Component, fanout []string, msg any) (stop bool, err error) {
	if axon.IsShutdownMicroprocess(msg) {
		_ = c.PassOn(ctx, msg) // or the runner does, if ctx has ended
		return true, nil
	}
	for _, box := range fanout {
		if err := c.Send(ctx, box, msg); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
			return false, err
		}
	}
	return false, nil
}

// childrenEnded ends the main loop of chassis c once its children have
// ended: with ProducerFinished on signal if finish is set and they ended
// by themselves; with ctx's error if c was stopped.
func childrenEnded(ctx context.Context, c *axon.Component, finish bool) error {
	if err := ctx.Err(); err != nil {
		// Stopped rather than finished: no ProducerFinished.
		return err
	}
	if finish {
		return c.Finish(ctx)
	}
	return nil
}
