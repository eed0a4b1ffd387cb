// Package util holds small general-purpose components, the Go
// counterparts of Kamaelia.Util and Kamaelia's console components:
//
//   - ConsoleReader and ConsoleEchoer, to bring lines in from an io.Reader
//     (os.Stdin, say) and write messages out to an io.Writer;
//   - DataSource and TriggeredSource, which produce messages, and Cycle,
//     which goes round a list of them on a timer (Kamaelia's
//     DestinationSelector, for a UDP TargettedPeer);
//   - PureTransformer and Filter, which change or select them, and
//     CheckedTransformer, for a change that can fail (a parser);
//   - Take, which ends a stream after so many messages, and Linger,
//     which holds a producer's ProducerFinished back for a while;
//   - Fanout and Splitter, which copy each message to several
//     destinations (fixed outboxes, or sinks added and removed while
//     running);
//   - Collate, which gathers a whole stream into one message;
//   - Merge and Comparator, which combine messages from several inboxes.
//
// A name taken from Kamaelia means what it meant there, and each
// component's documentation says where it differs. Collate is Kamaelia's
// Collate: one []any of everything that arrived, sent at ProducerFinished
// (MaxItems makes it fail with ErrTooMany rather than hold without limit).
// Merge, which tags each message with the inbox it came in on, Take and
// Linger have no Kamaelia counterpart.
//
// Each is an *axon.Component (Splitter's embeds one, for its extra
// methods) that can go anywhere in a graph:
//
//	err := axon.Run(ctx, chassis.Pipeline(
//		util.ConsoleReader(os.Stdin),
//		util.Map(strings.ToUpper),
//		util.ConsoleEchoer(os.Stdout, util.WithNewline()),
//	))
//
// # Shutdown
//
// Every component here follows Kamaelia's rules. ProducerFinished on
// "control" makes it finish what is already queued, pass the message on
// "signal" and end; ShutdownMicroprocess makes it pass the message on and
// end at once; the end of its context ends it too. A producer
// (ConsoleReader at the end of its input, DataSource after its last item)
// sends ProducerFinished on "signal" itself.
//
// "At once" holds even while a component is blocked sending to a full or
// unlinked outbox: delivering a ShutdownMicroprocess to a running
// component's "control" cancels its context (axon does this), so the
// blocked send returns, and the message is passed on exactly once. Each
// component runs on one goroutine, its main loop; ConsoleReader alone has
// a second, to read its io.Reader.
//
// Output sends wait for room (backpressure): no component here drops a
// message, except where its documentation says so (PureTransformer's nil
// results, Filter's rejects, a Splitter with no sinks). A component whose
// outbox leads to a component that has ended cannot deliver, so it ends
// with an error wrapping axon.ErrReceiverDone; a Splitter instead drops
// the sink that has ended and carries on with the others.
package util
