package transfer

import (
	"fmt"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Defaults of the options.
const (
	DefaultChunkSize = 1200 // fits in one datagram on every common path MTU
	DefaultWindow    = 256
	// DefaultWindowBytes bounds the bytes a Sender without a Window
	// option has in flight.
	DefaultWindowBytes = 2 << 20
	DefaultTimeout     = 30 * time.Second
	DefaultLinger      = time.Second
	// HeldBytes bounds the memory a Receiver without a Window option
	// may use for chunks that arrive ahead of a gap.
	HeldBytes = 32 << 20
)

// Option configures a Sender or a Receiver. An option that does not apply
// to the one it is given to (ChunkSize given to a Receiver, Linger to a
// Sender) makes it fail when started, with an error wrapping ErrConfig
// that names it.
type Option func(*config)

// The options each side takes.
var (
	senderOptions   = []string{"ChunkSize", "Window", "Timeout", "Name"}
	receiverOptions = []string{"Window", "Timeout", "Linger", "Name"}
)

type config struct {
	axon.OptionSet
	chunkSize int
	window    int
	windowSet bool
	timeout   time.Duration
	linger    time.Duration
	name      string
	err       error
}

// newConfig applies opts for who, a side that takes the options applies.
func newConfig(who string, applies []string, opts []Option) config {
	c := config{chunkSize: DefaultChunkSize, window: DefaultWindow, timeout: DefaultTimeout, linger: DefaultLinger}
	for _, o := range opts {
		o(&c)
	}
	if msg := c.Unapplied(who, applies...); msg != "" {
		c.fail("%s", msg)
	}
	return c
}

func (c *config) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
}

// ChunkSize sets the bytes of file per DATA packet (Sender only), from 1
// to MaxChunkSize; the default, 1200, stays under common path MTUs.
// Loopback carries up to MaxChunkSize in one datagram.
func ChunkSize(n int) Option {
	return func(c *config) {
		c.Mark("ChunkSize")
		if n < 1 || n > MaxChunkSize {
			c.fail("ChunkSize(%d): want 1 to %d", n, MaxChunkSize)
			return
		}
		c.chunkSize = n
	}
}

// Window sets how many chunks may be in flight, unacknowledged (Sender),
// or held out of order (Receiver), from 1 to MaxWindow. A Sender without
// this option keeps DefaultWindow chunks in flight, or fewer if that
// would be more than DefaultWindowBytes (so 256 chunks of 1200 bytes, 64
// of 32 KiB), so that a window fits in a socket's buffer. The
// Sender uses the smaller of its own window and the one the Receiver
// grants. A Receiver without this option grants what the Sender asks,
// but no more than makes the chunks it may hold take HeldBytes.
func Window(n int) Option {
	return func(c *config) {
		c.Mark("Window")
		if n < 1 || n > MaxWindow {
			c.fail("Window(%d): want 1 to %d", n, MaxWindow)
			return
		}
		c.window, c.windowSet = n, true
	}
}

// Timeout sets how long a side waits without progress before giving up
// with an error wrapping ErrTimeout: for the Sender, time without a reply
// that moves the transfer on; for the Receiver, time without a packet of
// the transfer (and, before one starts, without a START). Default 30 s.
func Timeout(d time.Duration) Option {
	return func(c *config) {
		c.Mark("Timeout")
		if d <= 0 {
			c.fail("Timeout(%v): want a positive duration", d)
			return
		}
		c.timeout = d
	}
}

// Linger sets how long a Receiver stays after sending its DONE, to answer
// an END again if the DONE was lost: it ends once the sender has been
// quiet for this long. Default 1 s. On a path slower than that it stays
// at least four round trips (as measured from its ACCEPT to the next
// packet), since the sender repeats END every two round trips there.
func Linger(d time.Duration) Option {
	return func(c *config) {
		c.Mark("Linger")
		if d < 0 {
			c.fail("Linger(%v): must not be negative", d)
			return
		}
		c.linger = d
	}
}

// Name sets the component's name (default "Sender" or "Receiver").
func Name(s string) Option {
	return func(c *config) { c.Mark("Name"); c.name = s }
}
