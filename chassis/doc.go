// Package chassis holds the components that hold other components:
// Pipeline (a chain), CircularPipeline (a chain closed into a loop),
// Graphline (named children wired by a table of links), Carousel (one child
// at a time, replaced on request), Seq (children one after another), PAR
// (children side by side) and Supervisor and Supervise (children restarted
// when they fail, Erlang/OTP style, keeping what waits in their inboxes).
// Each is an *axon.Component, or embeds one, so a chassis can go anywhere a
// component can, nested as deep as you like.
//
// Pipeline and Graphline expose their children's boxes by passthrough
// links, and declare the inboxes they pass through axon.PassthroughOnly, so
// crossing them adds no hop for a message and nothing can queue in them.
// PAR passes its children's outboxes through the same way, and its unused
// inbox is PassthroughOnly too, so a sender to it waits rather than filling
// a queue nobody reads. The one exception is the inbox of Carousel and Seq, whose children come
// and go: they forward it to the current child themselves, through a
// goroutine (one extra hop), so that nothing sent to them is lost or
// reordered while a child is swapped, and what a child left unread goes to
// the next child.
//
// A Graphline's links are written as Kamaelia's linkages dictionary was;
// each end is a Box, a [2]string of child name and box name (Self for the
// Graphline's own boxes):
//
//	g := chassis.Graphline(
//		chassis.Nodes{"SOURCE": src, "SINK": sink},
//		chassis.Links{
//			{"SOURCE", "outbox"}: {"SINK", "inbox"},
//			{"SOURCE", "signal"}: {"SINK", "control"},
//		})
//
// The constructors return no error: a chassis that cannot be wired is
// returned anyway, with the error recorded (axon.Component.FailOnStart), and
// running it reports the error, naming the chassis, and runs nothing of it.
//
// A ShutdownMicroprocess delivered to a PAR's "control", or to a
// Graphline's (unless a link passes it through to a child), stops it and
// all its children at once, and it passes that message on
// "signal" rather than the ProducerFinished it sends when its children end
// by themselves.
package chassis
