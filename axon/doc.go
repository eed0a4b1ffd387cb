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
// noSpaceInBox) or ErrNotLinked. Inboxes are bounded; their capacity is set
// per box with Capacity (DefaultCapacity otherwise).
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
// # Shutdown
//
// A producer sends ProducerFinished on "signal" when it is done; the next
// component, receiving it on "control", finishes what is queued, passes it
// on and ends. ShutdownMicroprocess ends a component at once. Serve and
// Control implement these rules for a main loop. A graph ends when all its
// components have; cancelling the context passed to Run ends everything.
//
// # Running
//
// Run runs a component and its children until all have ended; Start does
// the same in the background and returns a Handle, which can also put
// messages into the component and take them out. A component that returns
// an error or panics is reported by name (with its stack, for a panic),
// and the rest of its graph is shut down; the process carries on.
//
// # Services and introspection
//
// Services is a registry of named inboxes (Kamaelia's CAT). Inspect takes
// a Snapshot of a running graph, which renders as DOT or Mermaid text.
package axon
