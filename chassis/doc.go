// Package chassis holds the components that hold other components:
// Pipeline (a chain), Graphline (named children wired by a table of links),
// Carousel (one child at a time, replaced on request), Seq (children one
// after another) and PAR (children side by side). Each is an
// *axon.Component whose own boxes pass through to its children, so a
// chassis can go anywhere a component can, nested as deep as you like,
// without adding a hop for the messages that cross it. The one exception
// is the inbox of Carousel and Seq, whose children come and go: they
// forward it themselves, one hop, so that nothing sent to them is lost or
// reordered while a child is swapped.
package chassis
