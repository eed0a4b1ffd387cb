// Package axon is the core of kamaelia-go: components that talk only
// through named boxes, a linker that joins them, shutdown messages, a
// runner, a services registry and introspection. It is Kamaelia's Axon in
// Go, with channels for boxes and a goroutine per component.
//
// # Components and boxes
//
// A Component has a readable name, a unique id, inboxes it receives from
// and outboxes it sends on. Every component has "inbox" and "control"
// (in), "outbox" and "signal" (out); more are declared with WithInbox and
// WithOutbox, or added while running. Its main loop is a MainFunc run in a
// goroutine of its own:
//
//	double := axon.New("Double", func(ctx context.Context, c *axon.Component) error {
//		out := c.Out("outbox")
//		return c.Serve(ctx, func(ctx context.Context, msg any) error {
//			return out.Send(ctx, msg.(int)*2)
//		})
//	})
//
// # Sending
//
// Outbox.Send waits while the destination is full (backpressure) and while
// the outbox is not linked: the framework never discards a message.
// Outbox.TrySend never waits; its error matches ErrBoxFull (Kamaelia's
// noSpaceInBox) or ErrNotLinked. Both fail with an error matching
// ErrReceiverDone once the component that owns the destination has ended
// (its main loop has returned), even if its inbox has room. Inboxes are
// bounded; their capacity is set per box with Capacity (DefaultCapacity
// otherwise). Inbox and outbox names share one namespace.
//
// # Linking
//
// Link joins an outbox to an inbox, a parent's inbox to a child's, or a
// child's outbox to its parent's (passthrough, how Pipeline and Graphline
// expose their own boxes). Chains of links are resolved when they change,
// so a message crosses one channel however deep the nesting. Links can be
// removed and remade while the graph runs. An outbox feeds one destination
// at a time; many outboxes may feed one inbox.
//
// Link never moves queued messages. A container whose main loop does not
// read a box declares it with PassthroughOnly: the box holds nothing, and
// while it passes through to no child its senders wait as if unlinked.
// Inbox.Final reports where messages arriving at a box actually queue.
//
// # Shutdown
//
// A producer sends ProducerFinished on "signal" when it is done; the next
// component, receiving it on "control", finishes what is queued, passes it
// on and ends. ShutdownMicroprocess ends a component at once: delivering it
// to a running component's "control" cancels that component's context, so
// it stops even while blocked in a Send, and if its main loop does not pass
// the message on, the runner passes it on "signal" for it, once. Serve and
// Control implement these rules for a main loop; Serve looks at its context
// and at "control" before each message. A graph ends when all its
// components have; cancelling the context passed to Run ends everything.
//
// # Running
//
// Run runs a component and its children until all have ended; Start does
// the same in the background and returns a Handle, which can also put
// messages into the component and take them out (Start links the root's
// "signal" to the Handle first, if nothing else has). A component that
// returns an error or panics is reported by name (with its stack, for a
// panic), and the rest of its graph is shut down; the process carries on.
// The errors components return because a graph is being stopped (context
// errors, ErrReceiverDone) are not reported as failures. A constructor
// that returns a component rather than an error records a wiring mistake
// with FailOnStart, and starting the component reports it.
// A supervisor (chassis.Supervisor) restarts a failed main loop in place
// instead: Tend marks a component whose main loops it runs one after
// another against the same boxes, so that nothing queued is lost.
//
// # Services and introspection
//
// Services is a registry of named inboxes (Kamaelia's CAT). Inspect takes
// a Snapshot of a graph or part of one, which renders as DOT or Mermaid
// text; components outside the part that its links reach are marked. A
// Snapshot carries each box's metrics, kept on the hop at no cost worth
// measuring: messages queued, capacity, arrived and taken, sends that
// waited for room; and each component's state, messages handled and path
// (the names its containers give it). Watch streams a snapshot and then
// every change to a graph, so that a viewer attaching late misses
// nothing; package observe serves it as Prometheus metrics and a live
// page.
package axon
