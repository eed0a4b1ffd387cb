// Package natstest runs a NATS server inside the test process, so that
// tests of the NATS components need nothing installed: Server starts an
// embedded nats-server (github.com/nats-io/nats-server/v2/server) on a
// random loopback port, without logging, and stops it when the test ends.
//
//	func TestSomething(t *testing.T) {
//		s := natstest.Server(t)
//		nc, err := nats.Connect(s.URL())
//		...
//	}
//
// Restart stops the server and starts a new one on the same port, which is
// how reconnecting clients are tested: a client sees the server go away
// and come back at the same address, with none of its subscriptions (core
// NATS keeps no state for clients across a restart; the client sends its
// subscriptions again when it reconnects).
package natstest
