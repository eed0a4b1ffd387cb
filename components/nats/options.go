package nats

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// Defaults for the connection a component makes for itself, and for its
// work.
const (
	// DefaultReconnectWait is how long nats.go waits between attempts to
	// reconnect to a server.
	DefaultReconnectWait = 100 * time.Millisecond
	// DefaultReconnectBufSize is how many bytes of published messages
	// nats.go keeps while reconnecting (nats.go's own default, 8 MiB).
	DefaultReconnectBufSize = natsgo.DefaultReconnectBufSize
	// DefaultBuffer is how many received messages a Subscriber holds
	// before nats.go drops further ones (see Subscriber).
	DefaultBuffer = 1024
	// DefaultFlushTimeout bounds how long a Publisher waits, when it
	// ends, for the server to confirm what it published.
	DefaultFlushTimeout = 2 * time.Second
)

// Codec turns messages into payloads and back. A component given one
// passes every message through it ([]byte and string too), so that a
// Publisher and a Subscriber with the same Codec agree.
type Codec interface {
	Encode(msg any) ([]byte, error)
	Decode(data []byte) (any, error)
}

// JSON returns a Codec that encodes any message with encoding/json and
// decodes each payload into a T, sent on as a T (not a *T).
func JSON[T any]() Codec { return jsonCodec[T]{} }

type jsonCodec[T any] struct{}

func (jsonCodec[T]) Encode(msg any) ([]byte, error) { return json.Marshal(msg) }

func (jsonCodec[T]) Decode(data []byte) (any, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// Option configures a Publisher or a Subscriber.
type Option func(*config)

type config struct {
	url        string
	urlSet     bool
	conn       *natsgo.Conn
	natsOpts   []natsgo.Option
	codec      Codec
	buffer     int
	flushAfter time.Duration
	name       string
	stream     string // JetStream: the durable mode
	consumer   string // JetStream: a Subscriber's durable consumer
	err        error
}

func newConfig(opts []Option) config {
	cfg := config{url: natsgo.DefaultURL, buffer: DefaultBuffer, flushAfter: DefaultFlushTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.err != nil:
	case cfg.urlSet && cfg.conn != nil:
		cfg.err = fmt.Errorf("%w: Connect and Conn both given", ErrConfig)
	case cfg.conn != nil && len(cfg.natsOpts) > 0:
		cfg.err = fmt.Errorf("%w: NATSOptions apply to a connection the component makes, not to one given with Conn", ErrConfig)
	case cfg.buffer < 1:
		cfg.err = fmt.Errorf("%w: Buffer(%d): must be at least 1", ErrConfig, cfg.buffer)
	case cfg.flushAfter <= 0:
		cfg.err = fmt.Errorf("%w: FlushTimeout(%v): must be positive", ErrConfig, cfg.flushAfter)
	case cfg.consumer != "" && cfg.stream == "":
		cfg.err = fmt.Errorf("%w: Consumer applies with JetStream only", ErrConfig)
	}
	return cfg
}

// Connect makes the component connect to the NATS server (or servers,
// comma-separated) at url when it starts, and close that connection when
// it ends. Without Connect or Conn it connects to nats.DefaultURL
// ("nats://127.0.0.1:4222").
//
// The connection reconnects for ever (nats.MaxReconnects(-1)), every
// DefaultReconnectWait, keeping up to DefaultReconnectBufSize bytes of
// published messages while it does; NATSOptions changes any of that.
func Connect(url string) Option {
	return func(c *config) { c.url, c.urlSet = url, true }
}

// Conn makes the component use a connection the caller made and owns:
// the component never closes it, and its reconnect settings are the
// caller's. Several components may share one connection; a Publisher and a
// Subscriber on the same connection see each other's messages in the order
// published, across reconnects too (see Publisher).
func Conn(nc *natsgo.Conn) Option {
	return func(c *config) {
		if nc == nil {
			c.err = fmt.Errorf("%w: Conn(nil)", ErrConfig)
		}
		c.conn = nc
	}
}

// NATSOptions adds nats.go options to the connection the component makes
// (with Connect, or to the default URL): credentials (nats.UserCredentials,
// nats.UserInfo, nats.Token, nats.Nkey), TLS (nats.Secure, nats.RootCAs,
// nats.ClientCert), reconnect settings, handlers. They apply after the
// component's defaults, so they override them. They cannot be used with
// Conn.
func NATSOptions(opts ...natsgo.Option) Option {
	return func(c *config) { c.natsOpts = append(c.natsOpts, opts...) }
}

// WithCodec makes the component encode (Publisher) or decode (Subscriber)
// every message with codec. Without one, a Publisher sends []byte and
// string messages as they are and refuses others, and a Subscriber sends
// on each payload as a []byte.
func WithCodec(codec Codec) Option {
	return func(c *config) { c.codec = codec }
}

// Buffer sets how many received messages a Subscriber holds for its
// "outbox" before nats.go drops further ones (default DefaultBuffer).
// Publishers ignore it. In the durable mode (JetStream) it is how many
// messages the Subscriber fetches ahead; twice that may be
// unacknowledged.
func Buffer(n int) Option {
	return func(c *config) { c.buffer = n }
}

// FlushTimeout bounds how long a Publisher waits, when it ends, for the
// server to confirm what it has published (default DefaultFlushTimeout),
// and how long a Subscriber waits for the server to confirm its
// subscription before waiting for the next reconnect.
func FlushTimeout(d time.Duration) Option {
	return func(c *config) { c.flushAfter = d }
}

// Name sets the component's name (default "nats.Publisher" or
// "nats.Subscriber").
func Name(name string) Option {
	return func(c *config) { c.name = name }
}

// connect returns the connection to use and whether the component owns
// it (and so must close it); log is the component's logger.
func (c *config) connect(log *slog.Logger) (*natsgo.Conn, bool, error) {
	if c.conn != nil {
		if c.conn.IsClosed() {
			return nil, false, ErrClosed
		}
		return c.conn, false, nil
	}
	opts := DefaultOptions(log)
	if c.stream != "" {
		opts = append(opts, JetStreamOptions()...)
	}
	nc, err := natsgo.Connect(c.url, append(opts, c.natsOpts...)...)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrConnect, err)
	}
	return nc, true, nil
}

// DefaultOptions returns the nats.go options a connection made by a
// component of this package starts with: reconnect for ever
// (nats.MaxReconnects(-1)), every DefaultReconnectWait, keeping up to
// DefaultReconnectBufSize bytes of published messages meanwhile; and an
// error handler that logs nats.go's asynchronous errors with log (the
// component's graph's logger; slog.Default() if nil) at debug level
// only, with logAttrs (slog key-value pairs) added, since the components
// report what matters (slow consumers) themselves. Options appended
// after them override them.
func DefaultOptions(log *slog.Logger, logAttrs ...any) []natsgo.Option {
	if log == nil {
		log = slog.Default()
	}
	return []natsgo.Option{
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(DefaultReconnectWait),
		natsgo.ReconnectBufSize(DefaultReconnectBufSize),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, sub *natsgo.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			attrs := append(logAttrs[:len(logAttrs):len(logAttrs)], "subject", subject, "error", err)
			log.Debug("nats: asynchronous error", attrs...)
		}),
	}
}
