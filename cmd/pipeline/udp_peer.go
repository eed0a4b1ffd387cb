package main

import (
	"flag"
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

var udpPeerCommand = &command{
	name:    "udp-peer",
	summary: "send input lines as UDP datagrams to one receiver; print what arrives",
	doc: "Binds --listen and sends each line of standard input, without its line\n" +
		"ending (with it, given --keep-newlines, so that what is sent is the input\n" +
		"byte for byte, as from nc -u or socat), as one UDP datagram to --to (a\n" +
		"host name, an IPv4 address or a\n" +
		"bracketed IPv6 one, with a port). It says on standard error where it\n" +
		"listens (\"listening on 127.0.0.1:40123\") and reports there each\n" +
		"datagram that could not be sent or received, and keeps going.\n" +
		"\n" +
		formatsDoc + "\n" +
		"\n" +
		lingerDoc + " It is Kamaelia's\n" +
		"\n" +
		"\tPipeline(ConsoleReader(), SimplePeer(...), ConsoleEchoer())\n" +
		"\n" +
		"as a Graphline: STDIN -> PEER (a udp.SimplePeer) -> FORMAT -> STDOUT,\n" +
		"with the end of input passed to the peer through LINGER.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var f udpFlags
		f.declare(fs, true, true)
		var lf lineFlags
		lf.declare(fs, maxUDPPayload, "the most a UDP datagram carries", true)
		to := fs.String("to", "", "the receiver's `host:port` (required)")
		return func(args []string) (axon.Node, error) {
			if err := firstErr(f.check(args), lf.check()); err != nil {
				return nil, err
			}
			if *to == "" {
				return nil, fmt.Errorf("%w: -to is required", errUsage)
			}
			if err := checkTarget("to", *to); err != nil {
				return nil, err
			}
			peer, err := announce(e, udp.SimplePeer(udp.Local(f.listen), udp.Remote(*to)), "")
			if err != nil {
				return nil, err
			}
			return udpGraph(e, peer, f.show(), chassis.Nodes{
				"STDIN":  lf.reader(e),
				"LINGER": util.Linger(f.lingerFor()),
			}, linkErrors(chassis.Links{
				{"STDIN", "outbox"}:  {"PEER", "inbox"},
				{"STDIN", "signal"}:  {"LINGER", "control"},
				{"LINGER", "signal"}: {"PEER", "control"},
			}, "STDIN")), nil
		}
	},
}
