package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

var udpPostboxCommand = &command{
	name:    "udp-postbox",
	summary: "send input lines \"HOST:PORT PAYLOAD\" as UDP datagrams, each where it says",
	doc: "Binds --listen and reads standard input as lines \"HOST:PORT PAYLOAD\":\n" +
		"each is sent as one UDP datagram to HOST:PORT (a host name, an IPv4\n" +
		"address or a bracketed IPv6 one), its payload everything after the first\n" +
		"space (it may be empty; a line with no space sends an empty datagram).\n" +
		"Names are looked up without holding up datagrams to other destinations.\n" +
		"It says on standard error where it listens. A malformed line is reported\n" +
		"there with its number (\"pipeline udp-postbox: line 3: ...\") and\n" +
		"skipped; a host that cannot be resolved, or a datagram that cannot be\n" +
		"sent, is reported there too; later lines still go out.\n" +
		"\n" +
		formatsDoc + "\n" +
		"\n" +
		lingerDoc + " It is Kamaelia's\n" +
		"Pipeline(DataSource(...), PostboxPeer()) as a Graphline: STDIN -> PARSE\n" +
		"-> PEER (a udp.PostboxPeer) -> FORMAT -> STDOUT.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var f udpFlags
		f.declare(fs, true, true)
		var lf lineFlags
		lf.declare(fs, maxPostboxLine, "a destination and the most a UDP datagram carries", false)
		return func(args []string) (axon.Node, error) {
			if err := firstErr(f.check(args), lf.check()); err != nil {
				return nil, err
			}
			peer, err := f.bindPostbox(e)
			if err != nil {
				return nil, err
			}
			return udpGraph(e, peer, f.show(), chassis.Nodes{
				"STDIN":  lf.reader(e),
				"PARSE":  util.CheckedTransformer(postboxLines()),
				"LINGER": util.Linger(f.lingerFor()),
			}, linkErrors(chassis.Links{
				{"STDIN", "outbox"}:  {"PARSE", "inbox"},
				{"STDIN", "signal"}:  {"PARSE", "control"},
				{"PARSE", "outbox"}:  {"PEER", "inbox"},
				{"PARSE", "errors"}:  {"ERRORS", "inbox"},
				{"PARSE", "signal"}:  {"LINGER", "control"},
				{"LINGER", "signal"}: {"PEER", "control"},
			}, "STDIN")), nil
		}
	},
}

// maxPostboxLine is udp-postbox's default --max-line: room for a
// destination, "[IPv6 address%zone]:port" or a long host name, and the
// most a datagram carries.
const maxPostboxLine = 300 + maxUDPPayload

// postboxLines returns the function PARSE applies to each line of input,
// numbering the lines as they come.
func postboxLines() func(any) (any, error) {
	n := 0
	return func(m any) (any, error) {
		n++
		line, ok := m.(string)
		if !ok {
			return nil, fmt.Errorf("line %d: %T is not a line", n, m)
		}
		p, err := parsePostboxLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		return p, nil
	}
}

// errBadLine is wrapped by the error for a line of udp-postbox's input
// that is not "HOST:PORT PAYLOAD".
var errBadLine = errors.New("want HOST:PORT PAYLOAD")

// parsePostboxLine parses one line of udp-postbox's input: the
// destination, up to the first space, and the payload, all that follows
// it. A line with no space is a destination with an empty payload. The
// destination must be host:port with a host and a port from 1 to 65535;
// an IP literal is parsed here, and a name is left for the peer to
// resolve.
func parsePostboxLine(line string) (udp.Packet, error) {
	dest, payload, _ := strings.Cut(line, " ")
	if dest == "" {
		return udp.Packet{}, fmt.Errorf("%w: no destination", errBadLine)
	}
	t, err := udp.ParseTarget(dest)
	if err != nil {
		return udp.Packet{}, fmt.Errorf("%w: %w", errBadLine, err)
	}
	if t.Addr.IsValid() {
		return udp.Packet{To: t.Addr, Data: []byte(payload)}, nil
	}
	return udp.PacketTo(t.Host, []byte(payload)), nil
}
