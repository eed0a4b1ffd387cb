package backplane

import (
	"context"
	"fmt"
	"log/slog"

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

// dialNATS connects to cfg's server for the backplane called name. The
// connection is made in the background: it does not fail or wait when
// the server is down, and keeps trying for as long as the Backplane runs.
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

// closeAfterChildren closes the connection once the NATS publisher and
// subscriber have both ended.
func (l *natsLink) closeAfterChildren() {
	<-l.pub.Done()
	<-l.sub.Done()
	l.nc.Close()
}
