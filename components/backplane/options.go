package backplane

import (
	"errors"
	"fmt"
	"time"

	"github.com/kamaelia-go/kamaelia/components/nats"
	natsgo "github.com/nats-io/nats.go"
)

// DefaultWait is how long PublishTo and SubscribeTo wait for their
// Backplane to be registered, unless told otherwise with Wait.
const DefaultWait = time.Second

// Option configures a Backplane, PublishTo or SubscribeTo. Each option's
// documentation says which it applies to; giving a component one that
// does not apply makes it fail at start with an error wrapping
// ErrBadOption.
type Option func(*config)

type optKind uint8

const (
	forLookup     optKind = 1 << iota // PublishTo, SubscribeTo
	forSubscriber                     // SubscribeTo
	forBackplane                      // Backplane
)

type config struct {
	natsURL    string          // NATS: the server
	natsOpts   []natsgo.Option // NATS: connection options
	codec      nats.Codec      // NATS: payload codec, if any
	jetStream  bool            // JetStream: the durable mode
	durable    string          // SubscribeTo: its consumer's name
	ackTimeout time.Duration   // JetStream: the wait for one ack (0: default)
	onRetry    func(n int)     // JetStream: told of publishes made again (tests)
	wait       time.Duration
	dropOldest int // 0: Block
	errs       []error
	used       optKind
}

// Wait sets how long a PublishTo or SubscribeTo waits, when it starts,
// for a Backplane of its name to be registered before failing with
// ErrNoBackplane. The default is DefaultWait (one second); 0 or less
// means not waiting at all.
func Wait(d time.Duration) Option {
	return func(c *config) {
		c.used |= forLookup
		c.wait = d
	}
}

// Block makes a SubscribeTo hold its Backplane back while it cannot keep
// up: the Backplane waits for it, and so the publishers wait too. Nothing
// is dropped, and nothing queues without bound. This is the default.
func Block() Option {
	return func(c *config) {
		c.used |= forSubscriber
		c.dropOldest = 0
	}
}

// DropOldest makes a SubscribeTo keep up with its Backplane whatever
// happens downstream: it holds at most n messages waiting for its outbox
// (besides the one being sent), and when another arrives with n waiting
// it drops the oldest and counts it (SubscribeToComponent.Dropped). The
// Backplane and the other subscribers are never held back by it. n must
// be at least 1.
func DropOldest(n int) Option {
	return func(c *config) {
		c.used |= forSubscriber
		if n < 1 {
			c.errs = append(c.errs, fmt.Errorf("%w: DropOldest(%d): the queue must hold at least one message", ErrBadOption, n))
			return
		}
		c.dropOldest = n
	}
}

// NATS makes a Backplane share its messages through the NATS server at
// url (for example "nats://127.0.0.1:4222"), on the subject
// nats.Subject(name), so that Backplanes of the same name in other
// processes, on this machine or others, are one backplane: what any of
// their publishers sends reaches every subscriber of every one of them.
// PublishTo and SubscribeTo are used unchanged. opts are nats.go's own
// options: credentials (nats.UserCredentials), TLS (nats.Secure,
// nats.RootCAs) and the like. See Backplane for payloads and for what
// happens while the server cannot be reached.
func NATS(url string, opts ...natsgo.Option) Option {
	return func(c *config) {
		c.used |= forBackplane
		if url == "" {
			c.errs = append(c.errs, fmt.Errorf("%w: NATS: empty server URL", ErrBadOption))
			return
		}
		c.natsURL, c.natsOpts = url, opts
	}
}

// JetStream makes a Backplane shared through the NATS server at url, as
// NATS does, but durable, through NATS JetStream (which the server must
// have enabled): the backplane's messages are kept in a stream,
// nats.StreamName(name), on the subject nats.Subject(name), and every
// subscriber reads them through a consumer of its own, so that nothing
// is lost while the server restarts or a subscriber is away, and nothing
// is delivered twice. PublishTo and SubscribeTo are used unchanged;
// Durable names a SubscribeTo's consumer, so that it resumes where it
// was after its process restarts. It takes the place of NATS (give one
// or the other); NATSCodec applies to it too. See Backplane for what it
// promises and costs.
func JetStream(url string, opts ...natsgo.Option) Option {
	return func(c *config) {
		NATS(url, opts...)(c)
		c.jetStream = true
	}
}

// Durable gives a SubscribeTo of a JetStream Backplane a durable
// consumer called name (any string; see nats.ConsumerName): the server
// keeps what is published for it while it is gone, and a SubscribeTo of
// the same name, in this process or another, later resumes at the first
// message not yet acknowledged. Two SubscribeTo of one name running at
// once share its messages between them. Without Durable a SubscribeTo's
// consumer is its own and is forgotten 10 minutes after it stops
// reading. On a Backplane without JetStream it fails at start with
// ErrBadOption.
func Durable(name string) Option {
	return func(c *config) {
		c.used |= forSubscriber
		if name == "" {
			c.errs = append(c.errs, fmt.Errorf("%w: Durable: empty name", ErrBadOption))
			return
		}
		c.durable = name
	}
}

// NATSCodec sets how a Backplane given NATS turns messages into NATS
// payloads and back (nats.JSON[T]() is one). Without it, only []byte and
// string messages can be published, and subscribers receive []byte.
func NATSCodec(codec nats.Codec) Option {
	return func(c *config) {
		c.used |= forBackplane
		c.codec = codec
	}
}

// configure applies opts, refusing those that do not apply to the
// component called who, which accepts the kinds in allowed.
func configure(who string, opts []Option, allowed optKind) (config, error) {
	c := config{wait: DefaultWait}
	for _, o := range opts {
		if o == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil option", ErrBadOption))
			continue
		}
		o(&c)
	}
	bad := c.used &^ allowed
	if bad&forLookup != 0 {
		c.errs = append(c.errs, fmt.Errorf("%w: Wait does not apply to %s", ErrBadOption, who))
	}
	if bad&forBackplane != 0 {
		c.errs = append(c.errs, fmt.Errorf("%w: NATS, JetStream and NATSCodec apply to Backplane only, not %s", ErrBadOption, who))
	}
	if bad&forSubscriber != 0 {
		c.errs = append(c.errs, fmt.Errorf("%w: Block, DropOldest and Durable do not apply to %s", ErrBadOption, who))
	}
	if len(c.errs) > 0 {
		return c, fmt.Errorf("%s: %w", who, errors.Join(c.errs...))
	}
	return c, nil
}
