package main

import (
	"bytes"
	"flag"
	"fmt"
	"maps"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// demoLines is what peer A sends to peer B in the demo.
var demoLines = []string{
	"hello from kamaelia-go",
	"each line is a datagram",
	"peer B answers in capitals",
	"and the graph ends by itself",
}

var demoCommand = &command{
	name:    "demo",
	summary: "run a short self-contained demo: two UDP peers talking over loopback",
	doc: "Runs a Graphline of two UDP peers on 127.0.0.1, then exits. Peer A (a\n" +
		"udp.SimplePeer) sends a few lines from a DataSource to peer B (a\n" +
		"udp.PostboxPeer), which answers each datagram, upper-cased, to its\n" +
		"sender. Each answer A receives is printed on standard output as\n" +
		"\"got back from 127.0.0.1:PORT: TEXT\". Once all have come back, a Take\n" +
		"sends ProducerFinished, which shuts the printer and the peers down in\n" +
		"turn, and the graph ends. Where each peer listens is said on standard\n" +
		"error; the ports are chosen afresh each run.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		return func(args []string) (axon.Node, error) {
			if err := noArgs(args); err != nil {
				return nil, err
			}
			return demoGraph(e)
		}
	},
}

// demoGraph builds the demo's graph:
//
//	SOURCE -> A ~~udp~~> B -> ANSWER -> B ~~udp~~> A -> TAKE -> SHOW -> STDOUT
//
// with the ProducerFinished from TAKE passed along SHOW, STDOUT, A, B,
// ANSWER and ERRORS so that each ends after the one before it.
func demoGraph(e *env) (axon.Node, error) {
	// A needs B's address, so B is made first.
	b := udp.PostboxPeer(udp.Local("127.0.0.1:0"))
	if err := b.Err(); err != nil {
		return nil, err
	}
	a, err := announce(e, udp.SimplePeer(udp.Local("127.0.0.1:0"), udp.RemoteAddr(b.LocalAddr())), "(peer A)")
	if err != nil {
		b.Close()
		return nil, err
	}
	_, _ = announce(e, b, "(peer B)") // b.Err() is nil: checked above

	nodes, links := errorsTail(e)
	maps.Copy(nodes, chassis.Nodes{
		"SOURCE": util.DataSource(demoLines),
		"A":      a,
		"B":      b,
		"ANSWER": util.PureTransformer(answer),
		"TAKE":   util.Take(len(demoLines)),
		"SHOW":   util.PureTransformer(gotBack),
		"STDOUT": util.ConsoleEchoer(e.stdout, util.WithNewline()),
	})
	maps.Copy(links, chassis.Links{
		{"SOURCE", "outbox"}: {"A", "inbox"},
		{"B", "outbox"}:      {"ANSWER", "inbox"},
		{"ANSWER", "outbox"}: {"B", "inbox"},
		{"A", "outbox"}:      {"TAKE", "inbox"},
		{"TAKE", "outbox"}:   {"SHOW", "inbox"},
		{"SHOW", "outbox"}:   {"STDOUT", "inbox"},
		{"A", "errors"}:      {"ERRORS", "inbox"},
		{"B", "errors"}:      {"ERRORS", "inbox"},
		// The end: once all the answers are in.
		{"TAKE", "signal"}:   {"SHOW", "control"},
		{"SHOW", "signal"}:   {"STDOUT", "control"},
		{"STDOUT", "signal"}: {"A", "control"},
		{"A", "signal"}:      {"B", "control"},
		{"B", "signal"}:      {"ANSWER", "control"},
		{"ANSWER", "signal"}: {"ERRORS", "control"},
	})
	return chassis.Graphline(nodes, links), nil
}

// answer is peer B's side: each datagram back to its sender, upper-cased.
func answer(m any) any {
	if d, ok := m.(udp.Datagram); ok {
		return d.Reply(bytes.ToUpper(d.Data))
	}
	return nil
}

// gotBack is how peer A's side prints an answer.
func gotBack(m any) any {
	if d, ok := m.(udp.Datagram); ok {
		return fmt.Sprintf("got back from %s: %s", d.From, d.Data)
	}
	return m
}
