package backplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kamaelia-go/kamaelia/axon"
)

var (
	// ErrNoBackplane is wrapped by the error of a PublishTo or SubscribeTo
	// that found no Backplane under its name within its wait.
	ErrNoBackplane = errors.New("no such backplane")
	// ErrBackplaneEnded is wrapped by the error of a PublishTo whose
	// Backplane ended while it still held messages to publish.
	ErrBackplaneEnded = errors.New("backplane has ended")
	// ErrBadOption is wrapped by the start error of a component given an
	// option that does not apply to it or an invalid option value. It is
	// axon.ErrConfig (as ErrConfig is), the one error every package's
	// configuration errors wrap.
	ErrBadOption = axon.ErrConfig
	// ErrConfig is axon.ErrConfig, under the name the other packages use.
	ErrConfig = axon.ErrConfig
)

// hub is what PublishTo and SubscribeTo need of a backplane, whatever
// carries its messages: they find it by name (register, find) and use
// nothing else.
type hub interface {
	// input names the inbox publishers link to.
	input() (axon.Node, string)
	// publisher returns what a publisher (a PublishTo, identified by
	// id) publishes through. A message it cannot publish (NATS: a type
	// it cannot send, a codec error) is given to report and skipped.
	publisher(id string, report func(error)) (runPublisher, error)
	// durable returns the JetStream link of a JetStream backplane, whose
	// subscribers read a consumer of their own rather than join; nil
	// otherwise.
	durable() *jsLink
	// report reports a message the backplane could not deliver.
	report(err error)
	// join adds a subscriber: send is handed every message delivered
	// from now on, in runs, with a context that ends when ctx does or
	// the subscriber leaves. It fails with ErrBackplaneEnded once the
	// backplane has ended.
	join(ctx context.Context, send func(context.Context, []any) error) (*member, error)
	// leave undoes join (see fanout.leave).
	leave(m *member, now bool)
	// done is closed when the backplane has ended and will deliver no
	// more messages.
	done() <-chan struct{}
}

// hubs maps the component registered in axon.Services under a backplane's
// name to the hub behind it.
var hubs sync.Map // *axon.Component -> hub

// announced is closed and replaced whenever a backplane is registered,
// waking lookups that are waiting for one.
var announced atomic.Pointer[chan struct{}]

func init() {
	ch := make(chan struct{})
	announced.Store(&ch)
}

func announcement() <-chan struct{} { return *announced.Load() }

func announce() {
	ch := make(chan struct{})
	close(*announced.Swap(&ch))
}

// register publishes h under name: in its graph's service registry
// (axon.Services unless the graph was given one), as its input inbox, and
// in hubs. The returned function undoes it.
func register(name string, h hub) (func(), error) {
	node, inbox := h.input()
	c := node.Core()
	hubs.Store(c, h)
	if err := c.Services().Register(name, node, inbox); err != nil {
		hubs.Delete(c)
		return nil, fmt.Errorf("backplane %q: %w", name, err)
	}
	announce()
	return func() {
		if err := c.Services().Deregister(name); err != nil {
			c.Logger().Warn("backplane was not registered at its end", "backplane", name, "err", err)
		}
		hubs.Delete(c)
	}, nil
}

// find looks up the backplane called name in c's graph's service
// registry, waiting up to wait for one to be registered: a wait of 0 or
// less does not wait.
func find(ctx context.Context, c *axon.Component, name string, wait time.Duration) (hub, error) {
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		ep := announcement() // before the lookup, so no registration is missed
		s, err := c.Services().Lookup(name)
		if err == nil {
			if h, ok := hubs.Load(s.Component); ok {
				return h.(hub), nil
			}
			return nil, fmt.Errorf("backplane %q: %w: the service of that name is %s.%s", name, ErrNoBackplane, s.Component, s.Inbox)
		}
		if timeout == nil {
			return nil, fmt.Errorf("backplane %q: %w", name, ErrNoBackplane)
		}
		select {
		case <-ep:
		case <-timeout:
			return nil, fmt.Errorf("backplane %q: %w (waited %s)", name, ErrNoBackplane, wait)
		case <-ctx.Done():
			return nil, fmt.Errorf("backplane %q: %w", name, context.Cause(ctx))
		}
	}
}

// BackplaneComponent is the component Backplane makes: an *axon.Component
// with a method to count its subscribers.
type BackplaneComponent struct {
	*axon.Component
	name string
	fan  *fanout
	cfg  config
	nats *natsLink // with the NATS option, once started; nil otherwise
	js   *jsLink   // with the JetStream option, once started; nil otherwise
	errs *axon.Reporter
}

// ErrorsBox is the outbox on which a Backplane and a PublishTo report
// messages they could not publish or deliver, each an error naming the
// component, and carry on.
const ErrorsBox = axon.ErrorsName

// report reports a message the Backplane could not publish or deliver.
func (b *BackplaneComponent) report(err error) {
	b.errs.Report(fmt.Errorf("%s: %w", b, err))
}

// Backplane makes a hub called name that PublishTo and SubscribeTo
// components find by that name. When it starts it registers its "inbox"
// in axon.Services under name, and it removes the registration when it
// ends. A name already registered makes it fail at start with an error
// wrapping axon.ErrServiceExists that names the name; an empty name, or
// an option that does not apply, makes it fail with ErrBadOption.
//
// Messages are handed to every current subscriber in turn, in the order
// they joined (Kamaelia's Backplane used a PlugSplitter for this), by
// whoever has them: a PublishTo hands over what it publishes from its
// own goroutine, and the Backplane's goroutine what arrives on its
// "inbox" from anything linked there, a run of what has queued at a
// time (up to 32), the whole run to one subscriber before the next. One
// delivery at a time, so every subscriber sees the messages in one
// order. With Block, the default, the run goes straight onto the
// subscriber's outbox, in one Batch, and a hand-over waits for room
// there, so the slowest subscriber sets the pace for the Backplane and
// its publishers (see DropOldest for the other policy).
//
// Boxes:
//
//	inbox   (in)  messages to publish, from anything linked here
//	              (PublishTo does not use it)
//	control (in)  ProducerFinished: what is queued is delivered, then it
//	              is passed on and the Backplane ends; ShutdownMicroprocess:
//	              passed on, and it ends at once
//	outbox  (out) not used: messages go to the subscribers
//	errors  (out) error (NATS and JetStream): a message from "inbox" that
//	              could not be published, a payload the codec could not
//	              decode, messages NATS dropped for a slow subscriber; sent
//	              without waiting, logged with slog when unlinked or full
//	signal  (out) the shutdown message that ended the Backplane
//
// A publisher's ProducerFinished does not reach the Backplane's control:
// other publishers may carry on. When the Backplane ends its subscribers
// finish (see SubscribeTo).
//
// With the NATS option the Backplane is one process's end of a backplane
// shared through a NATS server: what its publishers send goes to the
// subject nats.Subject(name), and what arrives on that subject, from
// every process, goes to its subscribers, so local messages go round
// through the server too and every subscriber everywhere sees each
// publisher's messages in the same order. A PublishTo publishes on the
// Backplane's connection from its own goroutine; what arrives on the
// Backplane's "inbox" is published by the Backplane. It registers under
// name once the server has confirmed its subscription, so a subscriber
// that finds it gets everything published after it joined. Payloads are
// []byte and string (received as []byte) unless NATSCodec says
// otherwise; a message that cannot be published (another type, a codec
// error) is reported on the "errors" outbox of the PublishTo (or, for
// its own inbox, the Backplane) that had it, and skipped; a payload the
// codec cannot decode, and messages NATS dropped for a slow subscriber,
// are reported on the Backplane's "errors".
//
// The connection is made when the Backplane starts, in the background
// (it neither fails nor waits when the server is down), and kept for as
// long as the Backplane runs, reconnecting after any outage. Delivery is
// NATS's: at most once. While the server cannot be reached, what is
// published is kept by the connection (up to nats.go's reconnect buffer,
// 8 MiB) and sent once it is back; what the connection wrote in the
// moment before it noticed the server had gone is lost, and so is what
// other processes published meanwhile for a process that was cut off. A
// message that does not fit in the reconnect buffer is logged with slog
// and dropped.
//
// With the JetStream option the Backplane is shared through the server as
// with NATS, but durably: it makes sure the stream nats.StreamName(name)
// exists (creating it on the subject nats.Subject(name), with file
// storage and interest retention), then registers; each message is
// published with a Nats-Msg-Id of its publisher's and kept, up to 512 per
// publisher, until the server acknowledges storing it (publishers wait
// beyond that), and published again, in order, if the acknowledgement
// fails. Subscribers do not join the Backplane's fan-out: each reads a
// consumer of its own (see SubscribeTo and Durable). Subscribers (0)
// does not count them. It does not deliver while the server is down;
// nothing published is lost and nothing is delivered twice (the guide's
// table says exactly what is promised). If the server has no JetStream,
// or refuses the stream, the Backplane fails with an error wrapping
// nats.ErrStream. On ProducerFinished it publishes what is queued, waits
// until the server has stored it, waits for its subscribers to stop and
// their acknowledgements to reach the server, then ends.
//
// What arrives from NATS is handed to the subscribers by nats.go's
// delivery goroutine for the Backplane's subscription, in runs: while
// nats.go has more messages waiting, those taken are kept (up to 32) and
// handed over together. NATS cannot hold a publisher back for a slow
// subscriber: while a subscriber with Block holds the Backplane back,
// nats.go keeps up to nats.DefaultBuffer received messages for it and
// drops what arrives beyond that (the NATS slow-consumer rule); the
// Backplane reports how many on "errors".
func Backplane(name string, opts ...Option) *BackplaneComponent {
	b := &BackplaneComponent{name: name, fan: newFanout()}
	cfg, cfgErr := configure("Backplane", opts, forBackplane)
	b.cfg = cfg
	b.Component = axon.New("Backplane", b.main,
		axon.WithInbox(axon.InboxName, "messages to publish to every subscriber"),
		axon.WithOutbox(axon.OutboxName, "not used: messages go to the subscribers"),
		axon.WithOutbox(ErrorsBox, "errors: messages not published or not delivered (NATS); the Backplane carries on", axon.Carries[error]()),
	)
	b.errs = axon.NewReporter(b.Component, ErrorsBox)
	if name == "" {
		b.FailOnStart(fmt.Errorf("backplane: %w: empty name", ErrBadOption))
	}
	if cfgErr != nil {
		b.FailOnStart(cfgErr)
	}
	return b
}

// Subscribers returns how many subscribers the Backplane has, waiting
// (until ctx ends) for a delivery under way to finish.
func (b *BackplaneComponent) Subscribers(ctx context.Context) (int, error) {
	n, err := b.fan.count(ctx)
	if err != nil {
		return 0, fmt.Errorf("backplane %q: subscribers: %w", b.name, err)
	}
	return n, nil
}

func (b *BackplaneComponent) main(ctx context.Context, c *axon.Component) error {
	b.fan.start(ctx)
	defer b.fan.close()
	switch {
	case b.cfg.jetStream:
		return b.runJetStream(ctx, c)
	case b.cfg.natsURL != "":
		return b.runNATS(ctx, c)
	}
	unregister, err := register(b.name, b)
	if err != nil {
		return err
	}
	defer unregister()
	// The loop of a NATS Backplane, with nothing to wait for from a server:
	// plainPublisher hands each run to the subscribers.
	return publishInbox(ctx, c, plainPublisher{b, b.report}, nil, func(err error) error { return err }, func() error { return nil })
}

func (b *BackplaneComponent) input() (axon.Node, string) { return b, axon.InboxName }

// runPublisher is what a publisher publishes through.
type runPublisher interface {
	// publish publishes msgs, in order, from the publisher's own
	// goroutine, until ctx (the publisher's) ends. Once the backplane has
	// ended it fails with ErrBackplaneEnded.
	publish(ctx context.Context, msgs []any) error
	// flush waits until what was published is safe (JetStream: stored).
	flush(ctx context.Context) error
	// limit is the most messages a publisher hands publish at once.
	limit() int
	// pending is how many messages published are not yet safe.
	pending() int
	// oldest returns channels on which the answer about the oldest
	// message not yet safe comes (nil if there is none, or nothing to
	// wait for), to be given to answered.
	oldest() (<-chan *jetstream.PubAck, <-chan error)
	// answered takes that answer, and publishes again what failed.
	answered(ctx context.Context, err error) error
	// close lets go of what the publisher holds.
	close()
}

func (b *BackplaneComponent) publisher(id string, report func(error)) (runPublisher, error) {
	if b.js != nil {
		return b.js.publisher(id, report)
	}
	return plainPublisher{b, report}, nil
}

func (b *BackplaneComponent) durable() *jsLink { return b.js }

// plainPublisher publishes to a local or NATS Backplane: once handed
// over, a message is as safe as it will be.
type plainPublisher struct {
	b      *BackplaneComponent
	report func(error)
}

func (p plainPublisher) publish(ctx context.Context, msgs []any) error {
	if p.b.nats != nil {
		return p.b.nats.publish(msgs, p.report)
	}
	return p.b.fan.deliver(ctx, msgs)
}

func (p plainPublisher) limit() int {
	if p.b.nats != nil {
		return natsRunMax
	}
	return batchMax
}

func (plainPublisher) flush(context.Context) error { return nil }
func (plainPublisher) pending() int                { return 0 }

func (plainPublisher) oldest() (<-chan *jetstream.PubAck, <-chan error) { return nil, nil }
func (plainPublisher) answered(context.Context, error) error            { return nil }
func (plainPublisher) close()                                           {}

func (b *BackplaneComponent) join(ctx context.Context, send func(context.Context, []any) error) (*member, error) {
	return b.fan.join(ctx, send)
}

func (b *BackplaneComponent) leave(m *member, now bool) { b.fan.leave(m, now, b.Done()) }

func (b *BackplaneComponent) done() <-chan struct{} { return b.Done() }

// takeRun returns, in run's place, first (messages just taken from r)
// and those queued after them, up to batchMax unless first alone holds
// more.
func takeRun(r *axon.Reader, first, run []any, limit int) []any {
	run = append(run[:0], first...)
	for len(run) < limit {
		more := r.Next()
		if more == nil {
			break
		}
		run = append(run, more...)
	}
	return run
}

// drainRuns hands to deliver, a run at a time, everything queued in r's
// box now, without waiting for more. run is the caller's buffer.
func drainRuns(r *axon.Reader, run *[]any, limit int, deliver func([]any) error) error {
	for {
		first := r.Next()
		if first == nil {
			return nil
		}
		*run = takeRun(r, first, *run, limit)
		err := deliver(*run)
		clear(*run)
		if err != nil {
			return err
		}
	}
}
