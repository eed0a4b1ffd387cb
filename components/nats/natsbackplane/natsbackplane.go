package natsbackplane

import (
	"context"
	"fmt"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/components/nats"
)

// Option configures NATS or JetStream.
type Option func(*transport)

// NATSOptions adds nats.go's own options to the Backplane's connection:
// credentials (nats.UserCredentials), TLS (nats.Secure, nats.RootCAs) and
// the like. They apply after this package's (nats.DefaultOptions, and
// reconnecting for ever in the background), so they override them.
func NATSOptions(opts ...natsgo.Option) Option {
	return func(t *transport) { t.natsOpts = append(t.natsOpts, opts...) }
}

// WithCodec sets how the Backplane turns messages into NATS payloads and
// back (nats.JSON[T]() is one). Without it, only []byte and string
// messages can be published, and subscribers receive []byte.
func WithCodec(codec nats.Codec) Option {
	return func(t *transport) { t.codec = codec }
}

// transport is what NATS and JetStream give a Backplane.
type transport struct {
	url       string
	natsOpts  []natsgo.Option
	codec     nats.Codec
	jetStream bool

	ackTimeout time.Duration // JetStream: the wait for one ack (0: default)
	onRetry    func(n int)   // JetStream: told of publishes made again (tests)
}

// NATS makes a Backplane share its messages through the NATS server at
// url (for example "nats://127.0.0.1:4222"), on the subject
// nats.Subject(name), so that Backplanes of the same name in other
// processes, on this machine or others, are one backplane: what any of
// their publishers sends reaches every subscriber of every one of them.
// An empty url makes the Backplane fail at start with
// backplane.ErrBadOption.
//
// What its publishers send goes to the server, and what arrives on the
// subject, from every process, goes to its subscribers, so local
// messages go round through the server too and every subscriber
// everywhere sees each publisher's messages in the same order. A
// PublishTo publishes on the Backplane's connection from its own
// goroutine (up to 1024 queued messages at a time, in one write);
// what arrives on the Backplane's "inbox" is published by a
// nats.Publisher, a child of the Backplane, whose "errors" pass through
// to the Backplane's.
// It registers under its name once the server has confirmed its
// subscription, so a subscriber that finds it gets everything published
// after it joined. Payloads are []byte and string (received as []byte)
// unless WithCodec says otherwise; a message that cannot be published
// (another type, a codec error) is reported on the "errors" outbox of
// the PublishTo (or, for its own inbox, the Backplane) that had it, and
// skipped.
//
// What arrives is received by a nats.Subscriber, a child of the
// Backplane, on the Backplane's connection, and handed to the
// subscribers in runs of what it has taken (up to 32 at a time). Its
// "errors" pass through to the Backplane's: a payload the codec cannot
// decode, and messages NATS dropped for a slow subscriber. NATS cannot
// hold a publisher back for a slow subscriber: while a subscriber with
// Block holds the Backplane back, the nats.Subscriber keeps up to
// nats.DefaultBuffer received messages and NATS drops what arrives
// beyond that (the NATS slow-consumer rule).
//
// The connection is made when the Backplane starts, in the background
// (it neither fails nor waits when the server is down), and kept for as
// long as the Backplane runs, reconnecting after any outage. Delivery is
// NATS's: at most once. While the server cannot be reached, what is
// published is kept by the connection (up to nats.go's reconnect buffer,
// 8 MiB) and sent once it is back; what the connection wrote in the
// moment before it noticed the server had gone is lost, and so is what
// other processes published meanwhile for a process that was cut off. A
// message that does not fit in the reconnect buffer is reported and
// dropped. On ProducerFinished the Backplane publishes what is queued,
// waits for the server to confirm it (its nats.Publisher flushes),
// delivers what has come back (its nats.Subscriber sends on what it
// has), then ends.
func NATS(url string, opts ...Option) backplane.Option {
	t := &transport{url: url}
	for _, o := range opts {
		o(t)
	}
	return backplane.Via(t)
}

// JetStream makes a Backplane shared through the NATS server at url, as
// NATS does, but durable, through NATS JetStream (which the server must
// have enabled): the backplane's messages are kept in a stream,
// nats.StreamName(name), on the subject nats.Subject(name), and every
// subscriber reads them through a consumer of its own, so that nothing
// is lost while the server restarts or a subscriber is away, and nothing
// is delivered twice. PublishTo and SubscribeTo are used unchanged;
// backplane.Durable names a SubscribeTo's consumer, so that it resumes
// where it was after its process restarts.
//
// The Backplane makes sure the stream exists (creating it with file
// storage and interest retention), then registers; each message is
// published with a Nats-Msg-Id of its publisher's and kept, up to 512 per
// publisher, until the server acknowledges storing it (publishers wait
// beyond that), and published again, in order, if the acknowledgement
// fails. If the server has no JetStream, or refuses the stream, the
// Backplane fails with an error wrapping nats.ErrStream. On
// ProducerFinished it publishes what is queued, waits until the server
// has stored it, waits for its subscribers to stop and their
// acknowledgements to reach the server, then ends.
//
// A SubscribeTo of a JetStream Backplane does not join its fan-out
// (Subscribers does not count it): it runs a nats.Subscriber in the
// durable mode, as a child, on the Backplane's connection, whose outbox
// is its own. That reads through a consumer of its own (durable with
// backplane.Durable; it has joined once the consumer exists: what is
// published from then on is kept for it), sends each run of messages (up
// to 64) in one Batch and acknowledges the run once every message is in
// the next component's inbox. A message delivered again that it has
// already sent on is acknowledged and not sent again. The consumer lets
// 2048 messages be unacknowledged, which bounds what a stalled
// SubscribeTo holds. On ProducerFinished, ShutdownMicroprocess, the end
// of ctx or of the Backplane it gives back, in order, what it had
// fetched and not sent on, for the consumer's next reader, and makes
// sure the server has its acknowledgements. It takes backplane.Wait and
// backplane.Durable, not backplane.DropOldest (backplane.ErrBadOption):
// a durable subscriber drops nothing. A payload the codec cannot decode
// is reported on the Backplane's "errors" and acknowledged.
func JetStream(url string, opts ...Option) backplane.Option {
	t := &transport{url: url, jetStream: true}
	for _, o := range opts {
		o(t)
	}
	return backplane.Via(t)
}

// Open connects end to the server (see backplane.Transport).
func (t *transport) Open(ctx context.Context, end *backplane.End) (backplane.Link, error) {
	if t.url == "" {
		return nil, fmt.Errorf("backplane %q: %w: NATS: empty server URL", end.Name(), backplane.ErrBadOption)
	}
	if t.jetStream {
		return openJetStream(ctx, t, end)
	}
	return openCore(ctx, t, end)
}

// conn is the connection of one Backplane's end, shared by its
// publishers, its children and (JetStream) its subscribers.
type conn struct {
	end     *backplane.End
	nc      *natsgo.Conn
	subject string
	codec   nats.Codec

	status chan natsgo.Status
	failed chan error
	quit   chan struct{} // closed by close: the watch goroutine returns
	gone   chan struct{} // closed when the watch goroutine has returned
}

// dial opens the connection of end's Backplane to t's server, with extra
// options before the user's, in the background: it keeps trying while
// the server is down, until it is closed.
func dial(t *transport, end *backplane.End, extra ...natsgo.Option) (*conn, error) {
	name := end.Name()
	opts := append(nats.DefaultOptions(end.Component().Logger(), "backplane", name), extra...)
	opts = append(opts, natsgo.Name("kamaelia backplane "+name), natsgo.RetryOnFailedConnect(true))
	nc, err := natsgo.Connect(t.url, append(opts, t.natsOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("backplane %q: %w: %s: %w", name, backplane.ErrNoBackplane, t.url, err)
	}
	c := &conn{
		end: end, nc: nc, subject: nats.Subject(name), codec: t.codec,
		status: nc.StatusChanged(natsgo.CLOSED), failed: make(chan error, 1),
		quit: make(chan struct{}), gone: make(chan struct{}),
	}
	go c.watch()
	return c, nil
}

// watch says on failed when nats.go gives the connection up (a finite
// MaxReconnects among the options).
func (c *conn) watch() {
	defer close(c.gone)
	select {
	case <-c.status:
		c.failed <- fmt.Errorf("%w: the NATS connection closed", backplane.ErrBackplaneEnded)
	case <-c.quit:
	}
}

// Failed is Link.Failed.
func (c *conn) Failed() <-chan error { return c.failed }

// close closes the connection, once what uses it has stopped.
func (c *conn) close() {
	close(c.quit)
	<-c.gone
	c.nc.RemoveStatusListener(c.status)
	c.nc.Close()
}

// warn logs a problem at the Backplane's end with its graph's logger.
func (c *conn) warn(msg string, err error) {
	c.end.Component().Logger().Warn(msg, "backplane", c.end.Name(), "error", err)
}
