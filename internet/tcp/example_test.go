package tcp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/util"
)

// A Client talking to a plain echo server: it sends a request, finishes
// (half-closing the connection) and still reads the whole reply, then
// says on "signal" that the connection ended in an orderly way.
func ExampleClient() {
	ctx := context.Background()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() { // the server: echo until the client's end of file, then close
		c, _ := ln.Accept()
		io.Copy(c, c)
		c.Close()
	}()

	client := tcp.Client(ln.Addr().String())
	h := axon.Start(ctx, client)
	h.Put(ctx, "inbox", "hello, ")
	h.Put(ctx, "inbox", []byte("server"))
	h.Put(ctx, "control", axon.ProducerFinished{})

	var reply bytes.Buffer
	for reply.Len() < len("hello, server") {
		m, _ := h.Get(ctx, "outbox")
		reply.Write(m.([]byte))
	}
	fmt.Printf("reply: %s\n", reply.String())
	sig, _ := h.Get(ctx, "signal")
	fmt.Printf("ended: %T, reason %v\n", sig, sig.(axon.ProducerFinished).Reason)
	fmt.Println("wait:", h.Wait())
	// Output:
	// reply: hello, server
	// ended: axon.ProducerFinished, reason <nil>
	// wait: <nil>
}

// An echo server with a log: each connection gets its own protocol
// handler (here one that echoes in capitals), and the server's "events"
// report every connection opened and closed.
func ExampleServer() {
	ctx := context.Background()
	srv := tcp.Server("127.0.0.1:0", func(tcp.ConnInfo) axon.Node {
		return util.PureTransformer(func(m any) any { return bytes.ToUpper(m.([]byte)) })
	})
	g := chassis.Graphline(chassis.Nodes{
		"SERVER": srv,
		"LOG":    util.PureTransformer(func(m any) any { return m.(tcp.Event).Kind.String() }),
	}, chassis.Links{
		{"SERVER", tcp.EventsBox}: {"LOG", "inbox"},
		{"LOG", "outbox"}:         {chassis.Self, "outbox"},
	})
	h := axon.Start(ctx, g)
	event := func() any { m, _ := h.Get(ctx, "outbox"); return m }

	c, _ := net.Dial("tcp", srv.LocalAddr().String())
	fmt.Println(event())
	io.WriteString(c, "shout this")
	c.(*net.TCPConn).CloseWrite()
	reply, _ := io.ReadAll(c) // the reply, up to the server's end of file
	fmt.Printf("%s\n", reply)
	c.Close()
	fmt.Println(event())

	h.Stop()
	fmt.Println("wait:", h.Wait())
	// Output:
	// opened
	// SHOUT THIS
	// closed
	// wait: <nil>
}

// A SingleServer serves one client at a time through its own boxes.
func ExampleSingleServer() {
	ctx := context.Background()
	srv := tcp.SingleServer("127.0.0.1:0")
	h := axon.Start(ctx, srv)

	c, _ := net.Dial("tcp", srv.LocalAddr().String())
	h.Put(ctx, "inbox", "welcome\n")
	line := make([]byte, 8)
	io.ReadFull(c, line)
	fmt.Printf("client read %q\n", line)
	io.WriteString(c, "thanks")
	m, _ := h.Get(ctx, "outbox")
	fmt.Printf("server got %q\n", m)

	c.Close()
	h.Stop()
	h.Wait()
	// Output:
	// client read "welcome\n"
	// server got "thanks"
}

// Wrap makes a Connection of any net.Conn: here one end of a net.Pipe.
func ExampleWrap() {
	ctx := context.Background()
	here, there := net.Pipe()
	h := axon.Start(ctx, tcp.Wrap(here))
	go h.Put(ctx, "inbox", "through the pipe")
	buf := make([]byte, 16)
	io.ReadFull(there, buf)
	fmt.Printf("%s\n", buf)
	there.Close()
	sig, _ := h.Get(ctx, "signal")
	fmt.Println("peer finished:", sig.(axon.ProducerFinished).Reason == nil)
	h.Stop()
	h.Wait()
	// Output:
	// through the pipe
	// peer finished: true
}

// ConnectedServer is Server under Kamaelia's name: each connection gets a
// protocol handler of its own, here a typed Map that answers in capitals.
func ExampleConnectedServer() {
	ctx := context.Background()
	srv := tcp.ConnectedServer("127.0.0.1:0", func(tcp.ConnInfo) axon.Node {
		return util.Map(bytes.ToUpper)
	})
	h := axon.Start(ctx, srv)
	c, _ := net.Dial("tcp", srv.LocalAddr().String())
	io.WriteString(c, "kamaelia")
	c.(*net.TCPConn).CloseWrite()
	reply, _ := io.ReadAll(c)
	c.Close()
	fmt.Printf("%s\n", reply)
	h.Stop()
	fmt.Println("wait:", h.Wait())
	// Output:
	// KAMAELIA
	// wait: <nil>
}
