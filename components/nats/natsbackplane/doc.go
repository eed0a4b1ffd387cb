// Package natsbackplane shares a backplane.Backplane between processes
// through a NATS server (https://nats.io): Backplanes of the same name,
// in any process on any machine, given NATS or JetStream with the same
// server, are one backplane, and PublishTo and SubscribeTo are used with
// them unchanged.
//
//	bp := backplane.Backplane("news", natsbackplane.NATS("nats://127.0.0.1:4222"))
//
// It is a package of its own, plugged into package backplane through
// backplane.Via and backplane.Transport, so that a program using only
// the in-process Backplane links no NATS client.
//
// The bridge is made of package nats's components: a Backplane given
// NATS runs, as children on its connection, a nats.Publisher for what
// arrives on its own "inbox" and a nats.Subscriber on the backplane's
// subject whose messages it hands to its subscribers; on a Backplane
// given JetStream each SubscribeTo runs a nats.Subscriber in the durable
// mode, on a consumer of its own. A PublishTo publishes on the
// Backplane's connection from its own goroutine (a component between it
// and the connection would cost each message another crossing), with
// nats.Publish (NATS) or a nats.AckedPublisher of its own (JetStream),
// as a nats.Publisher does.
//
// With NATS delivery is at most once, as NATS's; with JetStream nothing
// published is lost or delivered twice while the server restarts, and a
// SubscribeTo given backplane.Durable resumes where it stopped. The
// guide (docs/guide.md) has a table of what each mode promises; NATS and
// JetStream say what each costs.
package natsbackplane
