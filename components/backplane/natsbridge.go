package backplane

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/kamaelia-go/kamaelia/axon"

	"github.com/kamaelia-go/kamaelia/components/nats"
	natsgo "github.com/nats-io/nats.go"
)

// natsLink is what the NATS option adds to a Backplane: one connection
// for the process's end of the backplane, a Publisher that its
// publishers feed, and a Subscriber that feeds its Splitter. Local
// messages go round through the server too, so that every process sees
// one order per publisher.
type natsLink struct {
	nc  *natsgo.Conn
	pub *nats.PublisherComponent
	sub *nats.SubscriberComponent
}

// dialNATS connects to cfg's server for the backplane called name, with
// the NATS publisher and subscriber that will use the connection. It does
// not fail or wait when the server is down: the connection keeps trying
// in the background until it is closed.
func dialNATS(name string, cfg config) (*natsLink, error) {
	opts := append([]natsgo.Option{
		natsgo.Name("kamaelia backplane " + name),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(nats.DefaultReconnectWait),
		natsgo.RetryOnFailedConnect(true),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
			slog.Debug("backplane: nats asynchronous error", "backplane", name, "error", err)
		}),
	}, cfg.natsOpts...)
	nc, err := natsgo.Connect(cfg.natsURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("backplane %q: %w: %s: %w", name, ErrNoBackplane, cfg.natsURL, err)
	}
	subject := nats.Subject(name)
	var codec []nats.Option
	if cfg.codec != nil {
		codec = append(codec, nats.WithCodec(cfg.codec))
	}
	return &natsLink{
		nc:  nc,
		pub: nats.Publisher(subject, append([]nats.Option{nats.Conn(nc)}, codec...)...),
		sub: nats.Subscriber(subject, append([]nats.Option{nats.Conn(nc)}, codec...)...),
	}, nil
}

// attachNATS connects to the Backplane's server and adds the NATS
// publisher and subscriber as children, linked between its inbox and its
// Splitter. The connection is closed once both have ended.
func (b *BackplaneComponent) attachNATS() (*natsLink, error) {
	l, err := dialNATS(b.name, b.cfg)
	if err != nil {
		return nil, err
	}
	var added []axon.Node
	defer func() { go l.closeAfter(added...) }()
	for _, child := range []axon.Node{l.pub, l.sub} {
		if err := b.AddChild(child); err != nil {
			return nil, fmt.Errorf("backplane %q: %w", b.name, err)
		}
		added = append(added, child)
	}
	// Publishers feed NATS; what NATS delivers feeds the Splitter.
	for _, link := range []struct {
		from    axon.Node
		fromBox string
		to      axon.Node
		toBox   string
	}{
		{b, axon.InboxName, l.pub, axon.InboxName},
		{l.sub, axon.OutboxName, b.split, axon.InboxName},
		{b, pubControl, l.pub, axon.ControlName},
		{b, subControl, l.sub, axon.ControlName},
	} {
		if err := axon.Link(link.from, link.fromBox, link.to, link.toBox); err != nil {
			return nil, fmt.Errorf("backplane %q: %w", b.name, err)
		}
	}
	return l, nil
}

// ready waits until the server has confirmed the subscription.
func (l *natsLink) ready(ctx context.Context) error {
	select {
	case <-l.sub.Subscribed():
		return nil
	case <-l.sub.Done():
		return fmt.Errorf("%w: the NATS subscriber ended before subscribing", ErrBackplaneEnded)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeAfter closes the connection once every one of users has ended:
// the NATS publisher flushes as it ends, so the connection must outlive
// it.
func (l *natsLink) closeAfter(users ...axon.Node) {
	for _, u := range users {
		<-u.Core().Done()
	}
	l.nc.Close()
}
