package main

import (
	"flag"
	"maps"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

var udpEchoCommand = &command{
	name:    "udp-echo",
	summary: "send every UDP datagram received straight back to its sender",
	doc: "Binds --listen and sends each UDP datagram it receives back to its\n" +
		"sender, unchanged (Twisted's Echo). It says on standard error where it\n" +
		"listens, and reports there what could not be sent or received. It runs\n" +
		"until interrupted (SIGINT or SIGTERM), and then exits 0. The graph is a\n" +
		"loop: PEER (a udp.PostboxPeer) -> REPLY -> PEER, where REPLY turns each\n" +
		"udp.Datagram into a udp.Packet back to where it came from. With\n" +
		"--restart, REPLY runs under a supervisor (chassis.Supervise) that\n" +
		"restarts it when it fails, reporting on standard error each failure,\n" +
		"restart and datagram dropped.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var f udpFlags
		f.declare(fs, false, false)
		restart := declareRestart(fs)
		return func(args []string) (axon.Node, error) {
			if err := f.check(args); err != nil {
				return nil, err
			}
			peer, err := f.bindPostbox(e)
			if err != nil {
				return nil, err
			}
			nodes, links := errorsTail(e)
			nodes["PEER"] = peer
			if !*restart {
				nodes["REPLY"] = echoReply()
			} else {
				nodes["REPLY"] = chassis.Supervise(chassis.Child{Name: "REPLY", Make: echoReply, InHand: chassis.Drop}, restartOptions...)
				maps.Copy(links, chassis.Links{
					{"REPLY", chassis.ErrorsBox}:      {"ERRORS", "inbox"},
					{"REPLY", chassis.SupervisionBox}: {"ERRORS", "inbox"},
				})
			}
			maps.Copy(links, chassis.Links{
				{"PEER", "outbox"}:   {"REPLY", "inbox"},
				{"REPLY", "outbox"}:  {"PEER", "inbox"},
				{"PEER", "errors"}:   {"ERRORS", "inbox"},
				{"PEER", "signal"}:   {"ERRORS", "control"},
				{"STDERR", "signal"}: {"REPLY", "control"},
			})
			return chassis.Graphline(nodes, links), nil
		}
	},
}

// echo turns a datagram received into the same payload back to its
// sender.
func echo(m any) any {
	if d, ok := m.(udp.Datagram); ok {
		return d.Reply(d.Data)
	}
	return nil
}
