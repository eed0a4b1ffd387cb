package tcp

import (
	"net"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Defaults for the options.
const (
	// DefaultDialTimeout is how long a Client tries to connect.
	DefaultDialTimeout = 10 * time.Second
	// DefaultReadChunk is the most a connection reads at once, and so the
	// largest []byte it sends on "outbox".
	DefaultReadChunk = 32 << 10
)

// Option configures a Client, a Server, a SingleServer or a connection
// made by Wrap. An option that does not apply to the component it is
// given to (MaxConnections given to a Client, say) makes the component
// fail when started, with an error wrapping ErrConfig that names it; Err
// reports it before that.
type Option func(*config)

type config struct {
	axon.OptionSet
	name        string
	dialTimeout time.Duration
	dialer      *net.Dialer
	readChunk   int
	keepAlive   time.Duration // 0: Go's default; < 0: off
	noDelay     bool
	setNoDelay  bool
	maxConns    int
	listener    net.Listener
}

func newConfig(opts []Option) config {
	cfg := config{dialTimeout: DefaultDialTimeout, readChunk: DefaultReadChunk}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return cfg
}

// Name sets the component's name (Client, Server, SingleServer or
// Connection by default).
func Name(name string) Option { return func(c *config) { c.Mark("Name"); c.name = name } }

// DialTimeout sets how long a Client tries to connect before giving up
// with ErrTimeout (DefaultDialTimeout, 10 s, if not given). 0 or less
// means no limit but the context's.
func DialTimeout(d time.Duration) Option {
	return func(c *config) { c.Mark("DialTimeout"); c.dialTimeout = d }
}

// Dialer makes a Client connect with d (its local address, control
// function, resolver, ...). DialTimeout still applies; KeepAlive, if
// given, overrides d.KeepAlive.
func Dialer(d *net.Dialer) Option { return func(c *config) { c.Mark("Dialer"); c.dialer = d } }

// ReadChunk sets the most a connection reads from the socket at once:
// each []byte it sends on "outbox" is at most n bytes (DefaultReadChunk,
// 32 KiB, if not given).
func ReadChunk(n int) Option {
	return func(c *config) {
		c.Mark("ReadChunk")
		if n > 0 {
			c.readChunk = n
		}
	}
}

// KeepAlive sets the period of TCP keep-alive probes on every connection
// (Go's default, 15 s, if not given); a negative d turns them off. A peer
// that stops answering them ends the connection with ErrTimeout.
func KeepAlive(d time.Duration) Option {
	return func(c *config) { c.Mark("KeepAlive"); c.keepAlive = d }
}

// NoDelay sets TCP_NODELAY on every connection. Go sets it (no Nagle
// delay) by default; NoDelay(false) lets the kernel gather small writes.
func NoDelay(on bool) Option {
	return func(c *config) { c.Mark("NoDelay"); c.noDelay, c.setNoDelay = on, true }
}

// MaxConnections limits how many connections a Server has open at once.
// A connection arriving beyond it is accepted and closed at once (reset,
// so the client reads "connection reset by peer"), and reported as an
// Event of kind Refused wrapping ErrTooMany. 0 (the default) is no limit.
func MaxConnections(n int) Option {
	return func(c *config) { c.Mark("MaxConnections"); c.maxConns = max(n, 0) }
}

// Listener makes a Server or SingleServer accept on ln instead of binding
// an address of its own (the address given to the constructor is then
// ignored). The server owns ln from then on and closes it when it stops
// accepting.
func Listener(ln net.Listener) Option {
	return func(c *config) { c.Mark("Listener"); c.listener = ln }
}

// The options each kind of component takes.
var (
	connOptions   = []string{"Name", "ReadChunk", "KeepAlive", "NoDelay"}
	clientOptions = append([]string{"DialTimeout", "Dialer"}, connOptions...)
	serverOptions = append([]string{"MaxConnections", "Listener"}, connOptions...)
	singleOptions = append([]string{"Listener"}, connOptions...)
)

// tune applies the socket options to a new connection.
func (cfg *config) tune(nc net.Conn) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return
	}
	if cfg.setNoDelay {
		_ = tc.SetNoDelay(cfg.noDelay)
	}
	switch {
	case cfg.keepAlive < 0:
		_ = tc.SetKeepAlive(false)
	case cfg.keepAlive > 0:
		_ = tc.SetKeepAlive(true)
		_ = tc.SetKeepAlivePeriod(cfg.keepAlive)
	}
}
