package backplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/util"
)

var (
	// ErrNoBackplane is wrapped by the error of a PublishTo or SubscribeTo
	// that found no Backplane under its name within its wait.
	ErrNoBackplane = errors.New("no such backplane")
	// ErrBackplaneEnded is wrapped by the error of a PublishTo whose
	// Backplane ended while it still held messages to publish.
	ErrBackplaneEnded = errors.New("backplane has ended")
	// ErrBadOption is wrapped by the start error of a component given an
	// option that does not apply to it or an invalid option value.
	ErrBadOption = errors.New("invalid backplane option")
)

// hub is what PublishTo and SubscribeTo need of a backplane, whatever
// carries its messages. It is the seam where another kind of backplane
// (one that rides on a message bus between processes) slots in behind the
// same PublishTo and SubscribeTo: it registers its component and a hub
// with register, and everything else is unchanged.
type hub interface {
	// input names the inbox publishers link to.
	input() (axon.Node, string)
	// join makes n's inbox receive every message delivered from now on.
	join(ctx context.Context, n axon.Node, inbox string) error
	// leave undoes join. Messages may still arrive until it returns.
	leave(ctx context.Context, n axon.Node, inbox string) error
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

// register publishes h under name: in axon.Services, as its input inbox,
// and in hubs. The returned function undoes it.
func register(name string, h hub) (func(), error) {
	node, inbox := h.input()
	c := node.Core()
	hubs.Store(c, h)
	if err := axon.Services.Register(name, node, inbox); err != nil {
		hubs.Delete(c)
		return nil, fmt.Errorf("backplane %q: %w", name, err)
	}
	announce()
	return func() {
		if err := axon.Services.Deregister(name); err != nil {
			slog.Warn("backplane was not registered at its end", "backplane", name, "err", err)
		}
		hubs.Delete(c)
	}, nil
}

// find looks up the backplane called name, waiting up to wait for one to
// be registered: a wait of 0 or less does not wait.
func find(ctx context.Context, name string, wait time.Duration) (hub, error) {
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		ep := announcement() // before the lookup, so no registration is missed
		s, err := axon.Services.Lookup(name)
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
	name  string
	split *util.SplitterComponent
	cfg   config
	nats  *natsLink // with the NATS option, once started; nil otherwise
}

// The Backplane's private outboxes to its children's control boxes.
const (
	splitControl = "splitter"
	pubControl   = "nats-publisher"
	subControl   = "nats-subscriber"
)

// Backplane makes a hub called name that PublishTo and SubscribeTo
// components find by that name. When it starts it registers its "inbox"
// in axon.Services under name, and it removes the registration when it
// ends. A name already registered makes it fail at start with an error
// wrapping axon.ErrServiceExists that names the name; an empty name, or
// any option (it takes none yet), makes it fail with ErrBadOption.
//
// What arrives on "inbox", from PublishTo components or from anything
// linked there, is copied to every current subscriber in turn by a
// util.Splitter inside the Backplane (Kamaelia's Backplane used a
// PlugSplitter in the same way). A copy waits for room in its
// subscriber, so the slowest subscriber sets the pace (see DropOldest for
// the other policy).
//
// Boxes:
//
//	inbox   (in)  messages to publish; passes straight through to the
//	              Splitter, which is what PublishTo links to
//	control (in)  ProducerFinished: what is queued is delivered, then it
//	              is passed on and the Backplane ends; ShutdownMicroprocess:
//	              passed on, and it ends at once
//	outbox  (out) not used: messages go to the subscribers
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
// publisher's messages in the same order. It registers under name once
// the server has confirmed its subscription, so a subscriber that finds
// it gets everything published after it joined. Payloads are []byte and
// string (received as []byte) unless NATSCodec says otherwise.
//
// The connection is made when the Backplane starts, in the background
// (it neither fails nor waits when the server is down), and kept for as
// long as the Backplane runs, reconnecting after any outage. Delivery is NATS's: at
// most once. While the server cannot be reached, what is published is
// kept by the connection (up to nats.go's reconnect buffer, 8 MiB) and
// sent once it is back; what the connection wrote in the moment before
// it noticed the server had gone is lost, and so is what other processes
// published meanwhile for a process that was cut off. A message that
// does not fit in the reconnect buffer is reported by the NATS publisher
// inside the Backplane, on slog, and dropped.
func Backplane(name string, opts ...Option) *BackplaneComponent {
	b := &BackplaneComponent{name: name, split: util.Splitter()}
	cfg, cfgErr := configure("Backplane", opts, forBackplane)
	b.cfg = cfg
	b.Component = axon.New("Backplane", b.main,
		axon.WithInbox(axon.InboxName, "messages to publish to every subscriber", axon.PassthroughOnly()),
		axon.WithOutbox(axon.OutboxName, "not used: messages go to the subscribers"),
		axon.WithOutbox(splitControl, "shutdown messages for the Splitter"),
		axon.WithOutbox(pubControl, "shutdown messages for the NATS publisher"),
		axon.WithOutbox(subControl, "shutdown messages for the NATS subscriber"),
		axon.WithChildren(b.split),
	)
	if name == "" {
		b.FailOnStart(fmt.Errorf("backplane: %w: empty name", ErrBadOption))
	}
	if cfgErr != nil {
		b.FailOnStart(cfgErr)
	}
	links := [][2]string{{splitControl, axon.ControlName}}
	if cfg.natsURL == "" {
		// Publishers feed the Splitter. With NATS they feed the NATS
		// publisher, linked when the Backplane starts (attachNATS).
		links = append(links, [2]string{axon.InboxName, axon.InboxName})
	}
	for _, l := range links {
		if err := axon.Link(b, l[0], b.split, l[1]); err != nil {
			b.FailOnStart(err)
		}
	}
	return b
}

// Subscribers returns how many subscribers the Backplane has, waiting
// (until ctx ends) for a delivery under way to finish.
func (b *BackplaneComponent) Subscribers(ctx context.Context) (int, error) {
	n, err := b.split.Sinks(ctx)
	if err != nil {
		return 0, fmt.Errorf("backplane %q: %w", b.name, err)
	}
	return n, nil
}

func (b *BackplaneComponent) main(ctx context.Context, c *axon.Component) (err error) {
	if b.cfg.natsURL != "" {
		if b.nats, err = b.attachNATS(); err != nil {
			return err
		}
		// Register only once NATS will deliver: a subscriber that finds
		// the Backplane then gets everything published after it joined.
		if err := b.nats.ready(ctx); err != nil {
			return fmt.Errorf("backplane %q: %w", b.name, err)
		}
	}
	unregister, err := register(b.name, b)
	if err != nil {
		return err
	}
	defer unregister()
	ctl := c.In(axon.ControlName)
	for {
		select {
		case msg := <-ctl:
			if !axon.IsProducerFinished(msg) && !axon.IsShutdownMicroprocess(msg) {
				slog.Warn("ignored message on control", "component", c.String(), "type", fmt.Sprintf("%T", msg))
				continue
			}
			// A ShutdownMicroprocess has already cancelled ctx, and with
			// it the children; a ProducerFinished lets each deliver what
			// is queued first, in the order messages flow: the NATS
			// publisher, the NATS subscriber, then the Splitter.
			stops := []struct {
				box  string
				done <-chan struct{}
			}{{splitControl, b.split.Done()}}
			if b.nats != nil {
				stops = append([]struct {
					box  string
					done <-chan struct{}
				}{{pubControl, b.nats.pub.Done()}, {subControl, b.nats.sub.Done()}}, stops...)
			}
			for _, s := range stops {
				if err := c.Send(ctx, s.box, msg); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
					return err
				}
				select {
				case <-s.done:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return c.PassOn(ctx, msg)
		case <-b.split.Done():
			// The Splitter ends only when told to or on failure, which the
			// run reports.
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *BackplaneComponent) input() (axon.Node, string) { return b, axon.InboxName }

func (b *BackplaneComponent) join(ctx context.Context, n axon.Node, inbox string) error {
	return b.split.AddSink(ctx, n, inbox)
}

func (b *BackplaneComponent) leave(ctx context.Context, n axon.Node, inbox string) error {
	return b.split.RemoveSink(ctx, n, inbox)
}

func (b *BackplaneComponent) done() <-chan struct{} { return b.Done() }
