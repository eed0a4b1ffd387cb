package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

var udpTargetsCommand = &command{
	name:    "udp-targets",
	summary: "send input lines as UDP datagrams to receivers taken in turn",
	doc: "Binds --listen and sends each line of standard input, without its line\n" +
		"ending (with it, given --keep-newlines), as one UDP datagram to one of the receivers in --to, changing to\n" +
		"the next every --every and going back to the first after the last. It\n" +
		"says on standard error where it listens, and reports there what could\n" +
		"not be sent or received.\n" +
		"\n" +
		formatsDoc + "\n" +
		"\n" +
		lingerDoc + " It is Kamaelia's\n" +
		"Graphline of a data source, a DestinationSelector and a TargettedPeer:\n" +
		"STDIN -> PEER (a udp.TargettedPeer) -> FORMAT -> STDOUT, with SELECT (a\n" +
		"util.Cycle of the receivers) feeding the peer's \"target\" inbox.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var f udpFlags
		f.declare(fs, true, true)
		var lf lineFlags
		lf.declare(fs, maxUDPPayload, "the most a UDP datagram carries", true)
		to := fs.String("to", "", "the receivers, `host:port,host:port,...` (required)")
		every := fs.Duration("every", time.Second, "how long each receiver in turn gets the datagrams, a `duration`")
		return func(args []string) (axon.Node, error) {
			if err := firstErr(f.check(args), lf.check()); err != nil {
				return nil, err
			}
			if *to == "" {
				return nil, fmt.Errorf("%w: -to is required", errUsage)
			}
			targets := strings.Split(*to, ",")
			for i, t := range targets {
				targets[i] = strings.TrimSpace(t)
				if err := checkTarget("to", targets[i]); err != nil {
					return nil, err
				}
			}
			if *every <= 0 {
				return nil, fmt.Errorf("%w: -every %v: must be more than 0", errUsage, *every)
			}
			peer, err := announce(e, udp.TargettedPeer(udp.Local(f.listen)), "")
			if err != nil {
				return nil, err
			}
			// The end of input reaches SELECT before the peer, so that it
			// never sends a target to a peer that has ended.
			return udpGraph(e, peer, f.show(), chassis.Nodes{
				"STDIN":  lf.reader(e),
				"LINGER": util.Linger(f.lingerFor()),
				"SELECT": util.Cycle(*every, targets...),
			}, linkErrors(chassis.Links{
				{"STDIN", "outbox"}:  {"PEER", "inbox"},
				{"STDIN", "signal"}:  {"LINGER", "control"},
				{"LINGER", "signal"}: {"SELECT", "control"},
				{"SELECT", "outbox"}: {"PEER", udp.TargetBox},
				{"SELECT", "signal"}: {"PEER", "control"},
			}, "STDIN")), nil
		}
	},
}
