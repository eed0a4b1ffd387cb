// Package backplane lets parts of a program publish to, and subscribe
// to, a named hub without being wired to one another: Kamaelia's
// Backplane, PublishTo and SubscribeTo.
//
// A Backplane registers itself in axon.Services under its name when it
// starts. A PublishTo finds it by that name and sends it everything that
// arrives on its "inbox"; each SubscribeTo finds it the same way, joins
// it, and sends on its "outbox" every message the Backplane delivers
// while it is a member. Publishers and subscribers come and go while the
// Backplane runs, and they may belong to other graphs than the
// Backplane's own:
//
//	bp := backplane.Backplane("news")
//	pub := chassis.Pipeline(util.ConsoleReader(os.Stdin), backplane.PublishTo("news"))
//	sub := chassis.Pipeline(backplane.SubscribeTo("news"), util.ConsoleEchoer(os.Stdout))
//
// Messages are handed to the subscribers by the PublishTo that publishes
// them (or by the Backplane, for what arrives on its own "inbox"), a run
// at a time: a PublishTo takes what has queued in its inbox and hands
// the run to each subscriber in turn, in the order they joined, one run
// after another. Each publisher's messages reach each subscriber in the
// order they were published; runs from different publishers are
// interleaved in the order they were handed over. With Block a run goes
// straight onto the subscriber's outbox, in one Batch, so between a
// PublishTo and what a subscriber feeds a message crosses a single
// channel, and where that component takes batches (Serve does) the run
// crosses as one or a few channel elements.
//
// # Finding a backplane
//
// PublishTo and SubscribeTo look their backplane up when they start. If
// none is registered under the name yet, they wait for one to appear for
// up to one second (change it with Wait), then fail with an error
// wrapping ErrNoBackplane that names it. A name registered by something
// other than a Backplane is the same error at once. Two Backplanes with
// one name are an error too: the second fails when it starts, with an
// error wrapping axon.ErrServiceExists.
//
// # Slow subscribers
//
// By default (Block) a subscriber that cannot keep up holds the Backplane
// back: the Backplane waits for room in each subscriber in turn, so the
// slowest subscriber sets the pace for all, and publishers wait in their
// turn. Nothing is dropped and nothing queues without bound. A subscriber
// made with DropOldest(n) instead keeps at most n messages waiting for its
// outbox; when a new one arrives and n are waiting, the oldest is dropped
// and counted (SubscribeToComponent.Dropped), and the Backplane is never
// held back by it.
//
// # Across processes
//
// With the option Via a Backplane is one process's end of a backplane
// shared through a Transport. This package has none of its own, so that
// a program using only the in-process Backplane links no client library;
// package natsbackplane has two: NATS, through a NATS server, delivering
// at most once, and JetStream, the same durably, through a NATS
// JetStream stream: nothing published is lost or delivered twice while
// the server restarts, and a SubscribeTo given Durable resumes where it
// stopped. The guide (docs/guide.md) has a table of what each mode
// promises.
//
// # Shutdown
//
// Every component here stops on ProducerFinished and ShutdownMicroprocess
// arriving on its "control" and passes the message on "signal". A
// publisher's ProducerFinished ends only that publisher, since others may
// still be publishing: the Backplane ends on its own "control" or when its
// context ends. When a Backplane ends, each of its subscribers sends what
// it had received, passes a ProducerFinished on its "signal" and ends;
// each idle publisher does the same (one still holding messages fails
// with ErrBackplaneEnded).
package backplane
