package udp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Option configures a peer.
type Option func(*config)

type config struct {
	local     string         // address to bind, "host:port"
	remote    Target         // fixed or first receiver
	remoteErr error          // from parsing the Remote option
	optErr    error          // options refused whatever follows (a second Handle)
	connect   bool           // connect the socket to remote
	broadcast bool           // SO_BROADCAST
	rbuf      int            // SO_RCVBUF, if > 0
	wbuf      int            // SO_SNDBUF, if > 0
	conn      net.PacketConn // adopted socket, instead of binding
	closeConn bool           // close conn when the peer ends
	handler   *handler       // an extra inbox, see Handle
	name      string         // the component's name, if not the peer's kind
	batch     int            // datagrams per batched read, 0 = default
	resolver  *net.Resolver
	cacheFor  time.Duration // how long a resolved name is reused
	pending   int           // payloads a PostboxPeer holds while resolving
}

// Defaults.
const (
	// DefaultBatch is how many datagrams a peer reads with one system call
	// on Linux (recvmmsg) when it is busy. An idle peer reads one at a
	// time and grows its batch only while datagrams keep arriving.
	DefaultBatch = 16
	// DefaultCacheFor is how long a resolved host name is reused before
	// it is looked up again.
	DefaultCacheFor = 30 * time.Second
	// DefaultPending is how many payloads a PostboxPeer holds for names
	// being resolved before it stops taking from "inbox".
	DefaultPending = 1024
)

func newConfig(opts []Option) config {
	cfg := config{
		local:    ":0",
		batch:    DefaultBatch,
		resolver: net.DefaultResolver,
		cacheFor: DefaultCacheFor,
		pending:  DefaultPending,
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// Local sets the address to bind, as "host:port": an IP literal or a name
// of this host, with an empty host meaning every interface and port 0 an
// ephemeral port, as in Kamaelia. The default, ":0", is every interface,
// IPv4 and IPv6 (a dual-stack socket), on an ephemeral port. "[::]:1500"
// is dual-stack too; "0.0.0.0:1500" is IPv4 only.
func Local(hostport string) Option { return func(c *config) { c.local = hostport } }

// Remote sets the receiver that SimplePeer sends to, and the first target
// of a TargettedPeer, as "host:port"; a name is resolved when the peer
// starts, without holding up its receiving.
func Remote(hostport string) Option {
	return func(c *config) { c.remote, c.remoteErr = ParseTarget(hostport) }
}

// RemoteAddr is Remote for an address already resolved.
func RemoteAddr(addr netip.AddrPort) Option {
	return func(c *config) { c.remote, c.remoteErr = ParseTarget(addr) }
}

// Connect connects a SimplePeer's socket to its receiver once that is
// resolved (Twisted's transport.connect). The socket then receives only
// from the receiver, and an ICMP port unreachable coming back for what it
// sent is reported on "errors" as ErrRefused (Twisted's
// connectionRefused). Only SimplePeer takes it, and it needs Remote.
func Connect() Option { return func(c *config) { c.connect = true } }

// Broadcast allows sending to broadcast addresses (SO_BROADCAST;
// Twisted's setBroadcastAllowed). Without it a peer's own socket refuses
// them, although Go's sockets allow them by default; an adopted socket is
// left as it came.
func Broadcast() Option { return func(c *config) { c.broadcast = true } }

// ReadBuffer sets the socket's receive buffer size in bytes (SO_RCVBUF;
// the kernel may round or cap it).
func ReadBuffer(bytes int) Option { return func(c *config) { c.rbuf = bytes } }

// WriteBuffer sets the socket's send buffer size in bytes (SO_SNDBUF).
func WriteBuffer(bytes int) Option { return func(c *config) { c.wbuf = bytes } }

// Conn makes the peer use pc instead of binding a socket of its own
// (Twisted's adoptDatagramPort). The peer does not close pc: it stops
// reading from it with a read deadline when it ends, and pc stays the
// caller's to close. Local is then ignored. A *net.UDPConn gets the
// allocation-free and batched receive paths; any other net.PacketConn
// works through ReadFrom and WriteTo. To adopt a file descriptor, wrap
// it with net.FilePacketConn(os.NewFile(fd, name)).
func Conn(pc net.PacketConn) Option { return func(c *config) { c.conn = pc } }

// Name names the peer's component (by default "SimplePeer",
// "TargettedPeer" or "PostboxPeer"), for packages whose components are
// peers underneath: errors and graphs then show the name users know.
func Name(name string) Option { return func(c *config) { c.name = name } }

// CloseConn makes a peer close the socket it adopted with Conn when it
// ends, as it closes one of its own: for constructors that set a socket
// up (multicast membership, say) and hand it to a peer for good. A peer
// whose options are refused closes the socket at once.
func CloseConn() Option { return func(c *config) { c.closeConn = true } }

// handler is an inbox added with Handle.
type handler struct {
	box, doc string
	fn       func(ctx context.Context, msg any) error
}

// Handle adds an inbox called box, described by doc, whose messages the
// peer's main loop passes to fn, in order, between sends: a way for
// packages built on this one to add a box that acts on the socket (joining
// a multicast group, say) without a component of their own. An error fn
// returns is reported on "errors" against box, and the peer carries on.
// A peer has at most one such box; a second Handle is an ErrConfig.
func Handle(box, doc string, fn func(ctx context.Context, msg any) error) Option {
	return func(c *config) {
		if c.handler != nil {
			c.optErr = errors.Join(c.optErr, fmt.Errorf("Handle(%q): the peer already has a Handle box, %q", box, c.handler.box))
			return
		}
		c.handler = &handler{box: box, doc: doc, fn: fn}
	}
}

// Batch sets the most datagrams read with one system call (recvmmsg, on
// Linux); 1 reads one at a time. Each datagram in a batch has a 64 KiB
// buffer while the peer is busy, so the buffers take up to 64 KiB × n.
func Batch(n int) Option { return func(c *config) { c.batch = max(n, 1) } }

// Resolver sets the resolver for host names (default net.DefaultResolver).
func Resolver(r *net.Resolver) Option { return func(c *config) { c.resolver = r } }

// CacheFor sets how long a resolved host name is reused before being
// looked up again (default DefaultCacheFor); 0 looks it up every time.
func CacheFor(d time.Duration) Option { return func(c *config) { c.cacheFor = max(d, 0) } }
