// Package nats connects component graphs to NATS
// (https://nats.io), Go's native messaging system, through
// github.com/nats-io/nats.go: a Publisher publishes each message on its
// inbox to a subject, and a Subscriber sends on each message that arrives
// on a subject. Graphs in different processes, on different machines,
// talk through a NATS server this way. The distributed Backplane (package
// natsbackplane) is built from these components on a connection of its
// own, and shares this package's pieces: Subject maps its names to
// subjects, Publish publishes its messages as a Publisher does,
// DefaultOptions sets up its connection.
//
// Payloads are []byte (and string, sent as its bytes); any other message
// goes through a Codec given with WithCodec (JSON is one). Each component
// makes its own connection (Connect, with nats.go options passed through
// NATSOptions: credentials, TLS, reconnect settings) or uses one the
// caller owns (Conn). Connections the components make reconnect for ever;
// what happens to messages during an outage is documented on Publisher
// and Subscriber: in short, core NATS delivers at most once, messages
// published during an outage are buffered by the publishing client up to
// a limit and sent after it reconnects, and nothing is kept for a
// subscriber that is not there.
//
// With the option JetStream both components are durable, through NATS
// JetStream in the same server: messages are kept in a stream, every
// publish is acknowledged by the server (and made again, stored once, if
// the acknowledgement is lost), and a Subscriber acknowledges a message
// only once it is in the next component's inbox; Consumer makes its
// consumer durable across restarts. AckedPublisher, StreamReader and
// Seen are those pieces; the durable Backplane publishes with
// AckedPublisher too.
//
// Errors that do not stop a component (a message of a type it cannot
// send, a payload it cannot decode, messages dropped because a Subscriber
// fell behind, a message refused while reconnecting) are sent on its
// "errors" outbox; errors that stop it (no connection, a bad subject) are
// what it fails with. Each is an *axon.BoxError naming the component, the
// box and what was being done, wrapping an *Error with the subject (and
// stream, server, count of messages lost), in the manner of net.OpError;
// every *Error wraps one of the Err* values, and nats.go's own error
// where there is one, for errors.Is.
//
// The tests use package natstest, which runs a NATS server inside the test
// process.
package nats
