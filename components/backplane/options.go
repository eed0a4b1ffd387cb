package backplane

import (
	"errors"
	"fmt"
	"time"
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
	transport  Transport // Backplane: Via
	durable    string    // SubscribeTo: its consumer's name
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

// Durable gives a SubscribeTo of a Backplane whose transport keeps
// messages for each subscriber (natsbackplane.JetStream) a durable
// subscription called name (any string): the transport keeps what is
// published for it while it is gone, and a SubscribeTo of the same name,
// in this process or another, later resumes at the first message not yet
// acknowledged. Two SubscribeTo of one name running at once share its
// messages between them. Without Durable a SubscribeTo's subscription is
// its own. On any other Backplane it fails at start with ErrBadOption.
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
		c.errs = append(c.errs, fmt.Errorf("%w: Via applies to Backplane only, not %s", ErrBadOption, who))
	}
	if bad&forSubscriber != 0 {
		c.errs = append(c.errs, fmt.Errorf("%w: Block, DropOldest and Durable do not apply to %s", ErrBadOption, who))
	}
	if len(c.errs) > 0 {
		return c, fmt.Errorf("%s: %w", who, errors.Join(c.errs...))
	}
	return c, nil
}
