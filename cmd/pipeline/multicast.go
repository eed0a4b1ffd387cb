package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/fragment"
	"github.com/kamaelia-go/kamaelia/internet/multicast"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// What the multicast commands share: their flags and the sockets they
// make. publish and subscribe default to mcl's port, 26000, and an
// IPv6 group of their own (IPv6 multicast needs an interface that has an
// IPv6 address and is not loopback).

// defaultTopicGroup is publish's and subscribe's --group by default.
const defaultTopicGroup = "[ff15::6b67:6f]:26000"

// multicastFlags are the flags the multicast commands share.
type multicastFlags struct {
	group string
	iface string
	ttl   int
	loop  bool
}

// declare declares --group and --interface and, for commands that send,
// --ttl and --loop.
func (f *multicastFlags) declare(fs *flag.FlagSet, group string, sends bool) {
	usage := "the multicast group, `address:port`: 239.1.2.3:5000 or [ff15::1]:26000"
	if group == "" {
		usage += " (required)"
	}
	fs.StringVar(&f.group, "group", group, usage)
	fs.StringVar(&f.iface, "interface", "", "the network interface `name` to use (lo, eth0, ...); the kernel's choice if empty")
	if sends {
		fs.IntVar(&f.ttl, "ttl", 1, "how many routers the datagrams may cross (IPv4 TTL, IPv6 hop limit), `0-255`")
		fs.BoolVar(&f.loop, "loop", true, "also deliver what is sent to receivers on this host (through lo, everything comes back whatever this says)")
	}
}

// check checks the flags and that no arguments follow them.
func (f *multicastFlags) check(args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	if f.group == "" {
		return fmt.Errorf("%w: -group is required", errUsage)
	}
	if f.ttl < 0 || f.ttl > 255 {
		return fmt.Errorf("%w: -ttl %d: want 0 to 255", errUsage, f.ttl)
	}
	return nil
}

// options returns the multicast options the flags ask for.
func (f *multicastFlags) options(extra ...udp.Option) []multicast.Option {
	opts := []multicast.Option{multicast.TTL(f.ttl), multicast.Loopback(f.loop), multicast.With(extra...)}
	if f.iface != "" {
		opts = append(opts, multicast.Interface(f.iface))
	}
	return opts
}

// receiveBuffer is the socket receive buffer the receiving commands ask
// for, so that a burst of fragments is not lost while the graph catches
// up (the kernel may cap it at net.core.rmem_max).
const receiveBuffer = 4 << 20

var multicastSendCommand = &command{
	name:    "multicast-send",
	summary: "send input lines as datagrams to a multicast group",
	doc: "Sends each line of standard input, without its line ending (with it,\n" +
		"given --keep-newlines), as one\n" +
		"datagram to --group, through --interface, with --ttl (default 1: the\n" +
		"local network only) and --loop (default true: receivers on this host\n" +
		"get it too). Unicast replies to its socket are printed as udp-peer\n" +
		"prints datagrams (text). It exits when input ends, once everything\n" +
		"has been sent: 0, or 1 if anything could not be. It is Kamaelia's\n" +
		"Pipeline(ConsoleReader(),\n" +
		"Multicast_sender(...)) as a Graphline: STDIN -> PEER (a\n" +
		"multicast.Sender) -> FORMAT -> STDOUT.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var f multicastFlags
		f.declare(fs, "", true)
		var lf lineFlags
		lf.declare(fs, maxUDPPayload, "the most a UDP datagram carries", true)
		return func(args []string) (axon.Node, error) {
			if err := firstErr(f.check(args), lf.check()); err != nil {
				return nil, err
			}
			peer, err := announce(e, multicast.Sender(f.group, f.options()...), "(sending to "+f.group+")")
			if err != nil {
				return nil, err
			}
			return udpGraph(e, peer, new(udpFlags).show(), chassis.Nodes{
				"STDIN": lf.reader(e),
			}, linkErrors(chassis.Links{
				{"STDIN", "outbox"}: {"PEER", "inbox"},
				{"STDIN", "signal"}: {"PEER", "control"},
			}, "STDIN")), nil
		}
	},
}

var multicastListenCommand = &command{
	name:    "multicast-listen",
	summary: "print the datagrams sent to a multicast group",
	doc: "Joins --group on --interface and prints each datagram sent to it, as\n" +
		"udp-peer does. It receives that group only, and several can listen on\n" +
		"one host and port. It runs until interrupted (SIGINT or SIGTERM), then\n" +
		"exits 0 with its output written out.\n" +
		"\n" +
		formatsDoc,
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var f multicastFlags
		var u udpFlags
		f.declare(fs, "", false)
		u.declareFormat(fs)
		return func(args []string) (axon.Node, error) {
			if err := f.check(args); err != nil {
				return nil, err
			}
			// Unlike udpFlags.check, which lets an empty --format mean
			// text, this refuses it, as it always has.
			show, err := datagramFormat(u.format)
			if err != nil {
				return nil, err
			}
			peer, err := announce(e, multicast.Receiver(f.group, f.options(udp.ReadBuffer(receiveBuffer))...), "(group "+f.group+")")
			if err != nil {
				return nil, err
			}
			return udpGraph(e, peer, show, nil, nil), nil
		}
	},
}

var publishCommand = &command{
	name:     "publish",
	transfer: true,
	summary:  "send standard input as one message (or one per line) on a topic",
	doc: "Sends all of standard input as one message on --topic to --group, in\n" +
		"fragments that a subscribe (or any fragment.Listener) puts back\n" +
		"together; with --lines, each line is a message of its own. Messages may\n" +
		"be up to 16 MiB. --rate paces the fragments, in bytes a second, for\n" +
		"receivers that cannot keep up with a burst. It exits 0 once everything\n" +
		"has been sent, 1 if anything could not be (saying how many), and 130 or\n" +
		"143 if SIGINT or SIGTERM cut it short. The graph: STDIN -> FRAGMENT (a fragment.Broadcaster)\n" +
		"-> PEER (a multicast.Sender). The default group is " + defaultTopicGroup + ".",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var f multicastFlags
		f.declare(fs, defaultTopicGroup, true)
		topic := fs.String("topic", "", "the `topic` of the messages")
		lines := fs.Bool("lines", false, "send each line of input as a message of its own")
		rate := fs.Int("rate", 0, "the most `bytes` a second to send, 0 for as fast as the socket takes them")
		var lf lineFlags
		lf.declare(fs, fragment.DefaultMaxMessage, "with --lines; the most a message carries", false)
		return func(args []string) (axon.Node, error) {
			if err := firstErr(f.check(args), lf.check()); err != nil {
				return nil, err
			}
			if *rate < 0 {
				return nil, fmt.Errorf("%w: -rate %d: must not be negative", errUsage, *rate)
			}
			fragOpts := []fragment.Option{fragment.Topic(*topic)}
			if *rate > 0 {
				fragOpts = append(fragOpts, fragment.Rate(*rate))
			}
			peer, err := announce(e, multicast.Sender(f.group, f.options()...), "(sending to "+f.group+")")
			if err != nil {
				return nil, err
			}
			var input axon.Node = wholeInput(e.stdin, fragment.DefaultMaxMessage)
			if *lines {
				input = lf.reader(e)
			}
			return udpGraph(e, peer, new(udpFlags).show(), chassis.Nodes{
				"STDIN":    input,
				"FRAGMENT": fragment.Broadcaster(fragOpts...),
			}, linkErrors(chassis.Links{
				{"STDIN", "outbox"}:    {"FRAGMENT", "inbox"},
				{"STDIN", "signal"}:    {"FRAGMENT", "control"},
				{"FRAGMENT", "outbox"}: {"PEER", "inbox"},
				{"FRAGMENT", "signal"}: {"PEER", "control"},
				{"FRAGMENT", "errors"}: {"ERRORS", "inbox"},
			}, "STDIN")), nil
		}
	},
}

var subscribeCommand = &command{
	name:    "subscribe",
	summary: "print the messages published on a multicast group",
	doc: "Joins --group on --interface, puts the fragments sent to it back\n" +
		"together, and prints each whole message on standard output as --format\n" +
		"says, the message's sender standing for a datagram's (--format raw\n" +
		"writes each message's bytes exactly, adding nothing). With --topic (which may\n" +
		"be given more than once) only messages on those topics are kept; the\n" +
		"others are dropped before they take any memory. With --count N it\n" +
		"exits 0 after N messages; otherwise it runs until interrupted. The\n" +
		"graph: PEER (a multicast.Receiver) -> REASSEMBLE (a fragment.Listener)\n" +
		"-> FORMAT -> STDOUT. The default group is " + defaultTopicGroup + ".\n" +
		"\n" + formatsDoc,
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var f multicastFlags
		f.declare(fs, defaultTopicGroup, false)
		var u udpFlags
		u.declareFormat(fs)
		var topics topicList
		fs.Var(&topics, "topic", "keep only messages on this `topic` (repeat for several)")
		count := countFlag(fs)
		return func(args []string) (axon.Node, error) {
			if err := f.check(args); err != nil {
				return nil, err
			}
			if err := checkCount(*count); err != nil {
				return nil, err
			}
			show, err := datagramFormat(u.format)
			if err != nil {
				return nil, err
			}
			peer, err := announce(e, multicast.Receiver(f.group, f.options(udp.ReadBuffer(receiveBuffer))...), "(group "+f.group+")")
			if err != nil {
				return nil, err
			}
			var listenOpts []fragment.Option
			if len(topics) > 0 {
				listenOpts = append(listenOpts, fragment.Topics(topics...))
			}
			return subscribeGraph(e, peer, fragment.Listener(listenOpts...), messageFormat(show), *count), nil
		}
	},
}

// subscribeGraph is subscribe's Graphline, with show formatting each
// message:
//
//	PEER.outbox -> REASSEMBLE -> FORMAT [-> TAKE] -> STDOUT
//	PEER.errors -> ERRORS -> STDERR
//
// with STDOUT, and TAKE and END for a count, as stdoutCounting has them.
func subscribeGraph(e *env, peer *udp.PeerComponent, listener axon.Node, show func(any) any, count int) axon.Node {
	nodes, links := errorsTail(e)
	maps.Copy(nodes, chassis.Nodes{
		"PEER":       peer,
		"REASSEMBLE": listener,
		"FORMAT":     util.PureTransformer(show),
	})
	maps.Copy(links, chassis.Links{
		{"PEER", "outbox"}:       {"REASSEMBLE", "inbox"},
		{"REASSEMBLE", "outbox"}: {"FORMAT", "inbox"},
		{"FORMAT", "outbox"}:     {"STDOUT", "inbox"},
		{"PEER", "errors"}:       {"ERRORS", "inbox"},
		{"PEER", "signal"}:       {"ERRORS", "control"},
		{"STDERR", "signal"}:     {"REASSEMBLE", "control"},
		{"REASSEMBLE", "signal"}: {"FORMAT", "control"},
		{"FORMAT", "signal"}:     {"STDOUT", "control"},
	})
	stdoutCounting(e, count, nodes, links)
	return chassis.Graphline(nodes, links)
}

// stdoutCounting adds to nodes the STDOUT that prints what links sends
// to it and, with count > 0, the TAKE (util.Take) put before it, which
// passes it the first count messages and then finishes it, and the END
// that ends the graph (env.finish) once STDOUT has written them all:
//
//	... -> TAKE -> STDOUT; STDOUT.signal -> END.control
func stdoutCounting(e *env, count int, nodes chassis.Nodes, links chassis.Links) {
	nodes["STDOUT"] = util.ConsoleEchoer(e.stdout)
	if count <= 0 {
		return
	}
	for from, to := range links {
		if to.Node() == "STDOUT" {
			links[from] = chassis.Box{"TAKE", to.Name()}
		}
	}
	nodes["TAKE"] = util.Take(count)
	nodes["END"] = endOnFinish(e)
	links[chassis.Box{"TAKE", "outbox"}] = chassis.Box{"STDOUT", "inbox"}
	links[chassis.Box{"TAKE", "signal"}] = chassis.Box{"STDOUT", "control"}
	links[chassis.Box{"STDOUT", "signal"}] = chassis.Box{"END", "control"}
}

// countFlag declares --count on fs.
func countFlag(fs *flag.FlagSet) *int {
	return fs.Int("count", 0, "exit after this many `messages`; 0 runs until interrupted")
}

// checkCount checks --count.
func checkCount(n int) error {
	if n < 0 {
		return fmt.Errorf("%w: -count %d: must not be negative", errUsage, n)
	}
	return nil
}

// messageFormat returns the function that formats a fragment.Message
// as show formats a datagram: its sender and its payload.
func messageFormat(show func(any) any) func(any) any {
	return func(m any) any {
		if msg, ok := m.(fragment.Message); ok {
			m = udp.Datagram{Data: msg.Data, From: msg.From}
		}
		return show(m)
	}
}

// endLine returns b if it ends in a newline, and otherwise a copy of b
// with one added (b itself is never appended to).
func endLine(b []byte) []byte {
	if bytes.HasSuffix(b, []byte("\n")) {
		return b
	}
	return append(b[:len(b):len(b)], '\n')
}

// wholeInput is a component that reads all of r and sends it as one
// []byte on "outbox", then ProducerFinished. Input longer than limit is
// an error, found without reading more than limit+1 bytes; it is
// reported on "errors" and nothing is sent.
func wholeInput(r io.Reader, limit int) *axon.Component {
	return axon.New("WholeInput", func(ctx context.Context, c *axon.Component) error {
		type result struct {
			b   []byte
			err error
		}
		read := make(chan result, 1)
		go func() {
			b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
			read <- result{b, err}
		}()
		select {
		case res := <-read:
			switch {
			case res.err != nil:
				return fmt.Errorf("%s: read: %w", c, res.err)
			case len(res.b) > limit:
				axon.NewReporter(c, util.ErrorsBox).ReportFrom(ctx,
					fmt.Errorf("standard input: %w: more than %d bytes, the most a message carries", errInputTooLong, limit))
			default:
				if err := c.Send(ctx, axon.OutboxName, res.b); err != nil {
					return err
				}
			}
			return c.Finish(ctx)
		case <-ctx.Done():
			// A read that never ends (a terminal) is left to the exit
			// of the process.
			return ctx.Err()
		}
	}, axon.WithOutbox(axon.OutboxName, "all of the input, as one []byte", axon.Carries[[]byte]()),
		axon.WithOutbox(util.ErrorsBox, "the input, if it is too long", axon.Carries[error]()))
}

// errInputTooLong is wrapped by the error for input longer than a
// command takes.
var errInputTooLong = errors.New("input too long")

// topicList is a flag that may be given more than once.
type topicList []string

func (t *topicList) String() string { return strings.Join(*t, ",") }

func (t *topicList) Set(s string) error {
	*t = append(*t, s)
	return nil
}
