package fragment

import (
	"fmt"
	"math"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Defaults and limits for fragmenting and reassembling.
const (
	// DefaultDatagramSize is the largest fragment sent by default: a
	// 1500-byte Ethernet MTU less a 40-byte IPv6 header and an 8-byte UDP
	// header, so fragments cross such a link without IP fragmentation,
	// over IPv6 or (with room to spare) IPv4.
	DefaultDatagramSize = 1500 - 40 - 8
	// MinDatagramSize is the smallest DatagramSize allowed: room for the
	// header, the longest topic and a useful piece of message.
	MinDatagramSize = 512
	// MaxDatagramSize is the largest DatagramSize allowed, the most a UDP
	// datagram over IPv4 can carry.
	MaxDatagramSize = 65535 - 20 - 8
	// DefaultMaxMessage is the longest message sent or reassembled by
	// default: 16 MiB.
	DefaultMaxMessage = 16 << 20
	// DefaultMaxAge is how long, by default, a receiver waits for the
	// rest of a message after its first fragment arrives.
	DefaultMaxAge = 5 * time.Second
	// DefaultBudget is how much memory, by default, a receiver holds for
	// messages still being reassembled: 64 MiB.
	DefaultBudget = 64 << 20
)

// Option configures a Broadcaster, a Listener, a Splitter or a
// Reassembler. Each option says which of them it applies to; given to
// another, it is refused with an error that names it (wrapping
// axon.ErrConfig), as a value out of range is.
type Option func(*config)

// The options each takes.
var (
	splitterOptions    = []string{"Topic", "DatagramSize", "MaxMessage"}
	broadcasterOptions = append([]string{"Rate"}, splitterOptions...)
	reassemblerOptions = []string{"Topics", "MaxMessage", "MaxAge", "Budget", "Clock"}
)

type config struct {
	axon.OptionSet
	topic      string
	topics     []string
	datagram   int
	maxMessage int
	maxAge     time.Duration
	budget     int
	now        func() time.Time
	rate       int // bytes per second, 0 = unpaced
	err        error
}

// newConfig applies opts for who, which takes the options applies.
func newConfig(who string, applies []string, opts []Option) (config, error) {
	cfg := config{
		datagram:   DefaultDatagramSize,
		maxMessage: DefaultMaxMessage,
		maxAge:     DefaultMaxAge,
		budget:     DefaultBudget,
		now:        time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Refuse(who, applies...); err != nil {
		return cfg, err // wraps axon.ErrConfig
	}
	return cfg, cfg.check()
}

// check refuses values out of range. The error wraps axon.ErrConfig.
func (c *config) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", axon.ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.err != nil:
		return c.err
	case len(c.topic) > MaxTopicLen:
		return bad("Topic: %d bytes: %v", len(c.topic), ErrTopicTooLong)
	case c.datagram < MinDatagramSize || c.datagram > MaxDatagramSize:
		return bad("DatagramSize(%d): want %d to %d", c.datagram, MinDatagramSize, MaxDatagramSize)
	case c.maxMessage < 0 || int64(c.maxMessage) > math.MaxUint32:
		return bad("MaxMessage(%d): want 0 to %d", c.maxMessage, uint64(math.MaxUint32))
	case c.maxAge <= 0:
		return bad("MaxAge(%v): want more than 0", c.maxAge)
	case c.budget <= 0:
		return bad("Budget(%d): want more than 0", c.budget)
	case c.now == nil:
		return bad("Clock(nil)")
	case c.rate < 0:
		return bad("Rate(%d): want 0 (unpaced) or more", c.rate)
	}
	for _, t := range c.topics {
		if len(t) > MaxTopicLen {
			return bad("Topics: %q...: %d bytes: %v", t[:16], len(t), ErrTopicTooLong)
		}
	}
	return nil
}

// Topic sets the topic of the messages a Broadcaster sends when they do
// not name one (a []byte or string rather than a Message). The default is
// "", no topic. At most MaxTopicLen bytes. Broadcaster and Splitter
// users only.
func Topic(t string) Option { return func(c *config) { c.Mark("Topic"); c.topic = t } }

// Topics makes a Listener (or Reassembler) take only messages whose topic
// is one of topics, as mcl's RawListener does: the fragments of any other
// topic are dropped as they arrive, before anything is kept for them.
// With no Topics, or Topics() with no arguments, every topic is taken.
// Several Topics options add up. "" is a topic like any other: the one a
// Broadcaster without a Topic sends.
func Topics(topics ...string) Option {
	return func(c *config) { c.Mark("Topics"); c.topics = append(c.topics, topics...) }
}

// DatagramSize sets the largest fragment a Broadcaster (or Splitter)
// sends, in bytes of UDP payload, header included: MinDatagramSize to
// MaxDatagramSize, default DefaultDatagramSize. Choose it so that a
// datagram crosses the path without IP fragmentation: the path MTU less
// 48 bytes over IPv6, 28 over IPv4.
func DatagramSize(n int) Option {
	return func(c *config) { c.Mark("DatagramSize"); c.datagram = n }
}

// MaxMessage sets the longest message, in bytes: a Broadcaster refuses a
// longer one (ErrTooLarge, on "errors") and a Listener drops the fragments
// of one that claims to be longer, before keeping anything for it. Default
// DefaultMaxMessage (16 MiB); at most 2^32-1, what the header can say.
func MaxMessage(n int) Option {
	return func(c *config) { c.Mark("MaxMessage"); c.maxMessage = n }
}

// MaxAge sets how long a Listener (or Reassembler) keeps an incomplete
// message, counted from its first fragment's arrival; then the message is
// dropped and the memory it held freed. Default DefaultMaxAge. It must be
// longer than a whole message takes to arrive.
func MaxAge(d time.Duration) Option {
	return func(c *config) { c.Mark("MaxAge"); c.maxAge = d }
}

// Budget sets how many bytes a Listener (or Reassembler) may hold for
// incomplete messages, all senders together: their buffers and
// bookkeeping (see Stats.BytesPending). A new message that would go over
// it evicts the oldest incomplete messages first; one that could never
// fit is dropped. Default DefaultBudget (64 MiB).
func Budget(bytes int) Option {
	return func(c *config) { c.Mark("Budget"); c.budget = bytes }
}

// Clock sets the clock a Listener (or Reassembler) reads to age
// incomplete messages; the default is time.Now. For tests.
func Clock(now func() time.Time) Option {
	return func(c *config) { c.Mark("Clock"); c.now = now }
}

// Rate paces a Broadcaster: it sends at most bytesPerSecond bytes of
// datagrams a second, on average, in bursts of at most 64 KiB. 0, the
// default, sends as fast as the next component takes them. Pacing keeps
// a large message from overrunning receivers' socket buffers on a path
// that drops what does not fit, as loopback and most LANs do.
func Rate(bytesPerSecond int) Option {
	return func(c *config) { c.Mark("Rate"); c.rate = bytesPerSecond }
}
