package backplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

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
	publisher(id string, report func(error)) (Publishing, error)
	// link returns the Link of a Backplane given a Transport, nil
	// otherwise.
	link() Link
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
	tr   Link // with Via, once started; nil otherwise
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
// an option that does not apply, makes it fail with ErrBadOption. It
// takes the option Via.
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
//	errors  (out) error (with a Transport): a message from "inbox" that
//	              could not be published, a payload the codec could not
//	              decode, messages NATS dropped for a slow subscriber; sent
//	              without waiting, logged with the graph's logger when
//	              unlinked or full
//	signal  (out) the shutdown message that ended the Backplane
//
// A publisher's ProducerFinished does not reach the Backplane's control:
// other publishers may carry on. When the Backplane ends its subscribers
// finish (see SubscribeTo).
//
// With Via the Backplane is one process's end of a backplane shared
// with other processes through a Transport: package natsbackplane's NATS
// (at most once, through a NATS server) and JetStream (durable, through
// a NATS JetStream stream) document what each does and promises.
func Backplane(name string, opts ...Option) *BackplaneComponent {
	b := &BackplaneComponent{name: name, fan: newFanout()}
	cfg, cfgErr := configure("Backplane", opts, forBackplane)
	b.cfg = cfg
	b.Component = axon.New("Backplane", b.main,
		axon.WithInbox(axon.InboxName, "messages to publish to every subscriber"),
		axon.WithOutbox(axon.OutboxName, "not used: messages go to the subscribers"),
		axon.WithOutbox(ErrorsBox, "errors: messages not published or not delivered (with a Transport); the Backplane carries on", axon.Carries[error]()),
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
	if b.cfg.transport == nil {
		unregister, err := register(b.name, b)
		if err != nil {
			return err
		}
		defer unregister()
		// The loop of a shared Backplane, with nothing to wait for from
		// a server: localPublisher hands each run to the subscribers.
		pub := Publishes[struct{}](localPublisher{fan: b.fan})
		return pub.publishInbox(ctx, c, nil, func(err error) error { return err }, func() error { return nil })
	}
	l, err := b.cfg.transport.Open(ctx, &End{b})
	if err != nil {
		return err
	}
	defer l.Close()
	b.tr = l
	pub, err := l.Publisher(c.ID().String(), b.report)
	if err != nil {
		return err
	}
	defer pub.close()
	unregister, err := register(b.name, b)
	if err != nil {
		return err
	}
	defer unregister()
	fail := func(err error) error { return fmt.Errorf("backplane %q: %w", b.name, err) }
	return pub.publishInbox(ctx, c, l.Failed(), fail, func() error { return l.Finish(ctx) })
}

func (b *BackplaneComponent) input() (axon.Node, string) { return b, axon.InboxName }

func (b *BackplaneComponent) publisher(id string, report func(error)) (Publishing, error) {
	if b.tr != nil {
		return b.tr.Publisher(id, report)
	}
	return Publishes[struct{}](localPublisher{fan: b.fan}), nil
}

func (b *BackplaneComponent) link() Link { return b.tr }

func (b *BackplaneComponent) join(ctx context.Context, send func(context.Context, []any) error) (*member, error) {
	return b.fan.join(ctx, send)
}

func (b *BackplaneComponent) leave(m *member, now bool) { b.fan.leave(m, now, b.Done()) }

func (b *BackplaneComponent) done() <-chan struct{} { return b.Done() }

// publishInbox is the main loop of every Backplane, local or shared: it
// publishes what arrives on c's "inbox" through p, a run at a time,
// and takes the answers about what it published as they come, so that
// what failed is published again even while nothing more arrives. On
// ProducerFinished it publishes what is queued, waits for p, calls
// finish and passes the message on; ShutdownMicroprocess is passed on
// at once. It fails (through fail) with what its link reports on failed
// (nil for a local Backplane).
func (p publishing[A]) publishInbox(ctx context.Context, c *axon.Component, failed <-chan error, fail func(error) error, finish func() error) error {
	pub := p.p
	r, ctl := c.Reader(axon.InboxName), c.In(axon.ControlName)
	var run []any
	publishRun := func(msgs []any) error { return pub.Publish(ctx, msgs) }
	for {
		acked, nacked := pub.Oldest()
		select {
		case e := <-r.C():
			run = takeRun(r, r.Open(e), run, pub.Limit())
			err := publishRun(run)
			clear(run)
			if err != nil {
				return fail(err)
			}
		case <-acked:
			if err := pub.Answered(ctx, nil); err != nil {
				return fail(err)
			}
		case err := <-nacked:
			if err := pub.Answered(ctx, err); err != nil {
				return fail(err)
			}
		case msg := <-ctl:
			if axon.IsShutdownMicroprocess(msg) {
				return c.PassOn(ctx, msg)
			}
			if !axon.IsProducerFinished(msg) {
				_, _ = c.Control(ctx, msg, nil) // logs and ignores it
				continue
			}
			if err := drainRuns(r, &run, pub.Limit(), publishRun); err != nil {
				return fail(err)
			}
			if err := pub.Flush(ctx); err != nil {
				return fail(err)
			}
			if err := finish(); err != nil {
				return err
			}
			return c.PassOn(ctx, msg)
		case err := <-failed:
			return fail(err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

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
