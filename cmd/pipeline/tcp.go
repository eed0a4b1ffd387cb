package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// The TCP tools: tcp-client (like nc) and tcp-server (an echo or
// line-printing server).

var tcpClientCommand = &command{
	name:    "tcp-client",
	summary: "connect to a TCP server; standard input to it, what it sends to standard output",
	doc: "Connects to --to (a host name, an IPv4 address or a bracketed IPv6 one,\n" +
		"with a port) and, like nc, copies standard input to the connection and\n" +
		"what comes back to standard output, byte for byte, adding nothing.\n" +
		"\n" +
		"At the end of standard input it half-closes the connection (the server\n" +
		"reads end of file) and goes on printing what the server sends until\n" +
		"the server closes its side; then it exits 0. The server closing first\n" +
		"also ends it, with exit status 0, once what arrived has been printed.\n" +
		"SIGINT or SIGTERM ends it at once, with exit status 0.\n" +
		"\n" +
		"It exits 1, saying why on standard error, when it cannot connect\n" +
		"(refused, unreachable, a name that does not resolve, no answer within\n" +
		"--timeout) or when the connection ends badly (reset by the server).\n" +
		"\n" +
		"The graph is Kamaelia's Pipeline(ConsoleReader(), TCPClient(...),\n" +
		"ConsoleEchoer()): STDIN -> CLIENT (a tcp.Client) -> STDOUT, the end of\n" +
		"input passed to the client, the client's end passed to STDOUT, and\n" +
		"STDOUT's to END, which ends the program.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		to := fs.String("to", "", "the server's `host:port` (required)")
		timeout := fs.Duration("timeout", tcp.DefaultDialTimeout, "give up connecting after this `duration`")
		return func(args []string) (axon.Node, error) {
			if err := noArgs(args); err != nil {
				return nil, err
			}
			if *to == "" {
				return nil, fmt.Errorf("%w: -to is required", errUsage)
			}
			if err := checkTCPTarget(*to); err != nil {
				return nil, err
			}
			if *timeout <= 0 {
				return nil, fmt.Errorf("%w: -timeout %v: must be positive", errUsage, *timeout)
			}
			nodes, links := errorsTail(e)
			maps.Copy(nodes, chassis.Nodes{
				"STDIN":  rawReader(e.stdin),
				"CLIENT": tcp.Client(*to, tcp.DialTimeout(*timeout)),
				"STDOUT": util.ConsoleEchoer(e.stdout),
				"END":    endOnFinish(e),
			})
			maps.Copy(links, chassis.Links{
				{"STDIN", "outbox"}:       {"CLIENT", "inbox"},
				{"STDIN", "signal"}:       {"CLIENT", "control"},
				{"CLIENT", "outbox"}:      {"STDOUT", "inbox"},
				{"CLIENT", "signal"}:      {"STDOUT", "control"},
				{"STDOUT", "signal"}:      {"END", "control"},
				{"CLIENT", tcp.ErrorsBox}: {"ERRORS", "inbox"},
			})
			return chassis.Graphline(nodes, links), nil
		}
	},
}

var tcpServerCommand = &command{
	name:    "tcp-server",
	summary: "a TCP server: echo each connection back (--echo), or print the lines received",
	doc: "Listens on --listen and serves every connection at once, each with a\n" +
		"protocol handler of its own (a tcp.Server, Kamaelia's ConnectedServer).\n" +
		"With --echo each client gets back exactly what it sends. Without it\n" +
		"each line a client sends is printed on standard output, prefixed with\n" +
		"the client's address and a space (\"127.0.0.1:51234 hello\"); a last\n" +
		"line without a line ending is printed when the client closes its side.\n" +
		"\n" +
		"When a client closes its side of the connection, the server finishes\n" +
		"what it was sending and closes its own. It says on standard error\n" +
		"first where it listens (\"listening on 127.0.0.1:40123\"), then reports\n" +
		"there each connection opened and closed (\"connection from\n" +
		"127.0.0.1:51234 opened\", \"... closed\", with the reason when it did not\n" +
		"end in an orderly way) and each refused beyond --max-connections.\n" +
		"\n" +
		"A line longer than --max-line is reported with its number and skipped.\n" +
		"\n" +
		"With --once it is nc -l: it serves one connection, writes what the\n" +
		"client sends to standard output byte for byte, adding nothing, and exits\n" +
		"when the client closes (0, or 1 if the connection was reset):\n" +
		"\"pipeline tcp-server --listen :9000 --once > file\".\n" +
		"\n" +
		"With --restart each connection's handler runs under a supervisor\n" +
		"(tcp.Supervised): one that fails or panics is restarted and the\n" +
		"connection stays open; the chunk it failed on is dropped.\n" +
		"\n" +
		"Without --once it runs until interrupted (SIGINT or SIGTERM), which closes\n" +
		"every connection, and then exits 0 if nothing failed. It exits 1 if it\n" +
		"cannot bind --listen.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		listen := fs.String("listen", ":0",
			"the local `host:port` to listen on: port 0 is any free port, and no host every interface, IPv4 and IPv6")
		echo := fs.Bool("echo", false, "send back to each client what it sends, instead of printing its lines")
		once := fs.Bool("once", false, "serve one connection: write what it sends to standard output, byte for byte, and exit when it closes (nc -l)")
		maxConns := fs.Int("max-connections", 0, "refuse connections beyond this `number` open at once (0: no limit; 1 with --once)")
		var lf lineFlags
		lf.declare(fs, maxStreamLine, "1 MiB", false)
		restart := declareRestart(fs)
		return func(args []string) (axon.Node, error) {
			if err := firstErr(noArgs(args), lf.check()); err != nil {
				return nil, err
			}
			if *once && *echo {
				return nil, fmt.Errorf("%w: -once and -echo: choose one", errUsage)
			}
			if err := checkListen(*listen); err != nil {
				return nil, err
			}
			if *maxConns < 0 {
				return nil, fmt.Errorf("%w: -max-connections %d: must not be negative", errUsage, *maxConns)
			}
			factory := echoProtocol
			switch {
			case *once:
				factory, *maxConns = rawWriter(e.stdout), 1
			case !*echo:
				factory = linePrinter(&lockedWriter{w: e.stdout}, lf.max, e)
			}
			if *restart {
				factory = tcp.Supervised(factory, chassis.Drop, restartOptions...)
			}
			srv, err := announce(e, tcp.Server(*listen, factory, tcp.MaxConnections(*maxConns)), "")
			if err != nil {
				return nil, err
			}
			// Each tcp.Event is a fmt.Stringer, which STDERR writes as
			// its String.
			nodes, links := errorsTail(e)
			nodes["SERVER"] = srv
			maps.Copy(links, chassis.Links{
				{"SERVER", tcp.EventsBox}: {"STDERR", "inbox"},
				{"SERVER", tcp.ErrorsBox}: {"ERRORS", "inbox"},
			})
			if *once {
				nodes["ONCE"] = endAfterClose(e)
				links[chassis.Box{"SERVER", tcp.EventsBox}] = chassis.Box{"ONCE", "inbox"}
			}
			return chassis.Graphline(nodes, links), nil
		}
	},
}

// checkTCPTarget checks that s is host:port with a host and a port other
// than 0.
func checkTCPTarget(s string) error {
	if _, err := udp.ParseTarget(s); err != nil {
		return fmt.Errorf("%w: -to %q: want host:port, such as 127.0.0.1:7, [::1]:7 or example.com:7", errUsage, s)
	}
	return nil
}

// rawReader sends what it reads from r on "outbox", as []byte chunks just
// as Read returns them, and ProducerFinished at the end of r.
//
// Boxes:
//
//	inbox   (in)  not used
//	control (in)  ProducerFinished or ShutdownMicroprocess: passed on, and
//	              it ends
//	outbox  (out) []byte: each chunk read
//	signal  (out) ProducerFinished at the end of r, or the shutdown message
//	              that ended it
//
// A read error other than io.EOF ends it with an error naming it. Reads
// run on a goroutine of its own; one blocked in r.Read when the
// component ends returns when the read does (for standard input, at the
// latest when the program exits), or at once if r has SetReadDeadline.
func rawReader(r io.Reader) *axon.Component {
	type chunk struct {
		b   []byte
		err error
	}
	return axon.New("RawReader", func(ctx context.Context, c *axon.Component) error {
		chunks, quit, done := make(chan chunk), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, 32<<10)
			for {
				n, err := r.Read(buf)
				ch := chunk{err: err}
				if n > 0 {
					ch.b = bytes.Clone(buf[:n])
				}
				select {
				case chunks <- ch:
				case <-quit:
					return
				}
				if err != nil {
					return
				}
			}
		}()
		defer func() {
			close(quit)
			if d, ok := r.(interface{ SetReadDeadline(time.Time) error }); ok && d.SetReadDeadline(time.Now()) == nil {
				<-done
				_ = d.SetReadDeadline(time.Time{})
			}
		}()
		out, ctl := c.Out(axon.OutboxName), c.In(axon.ControlName)
		for {
			select {
			case ch := <-chunks:
				if len(ch.b) > 0 {
					if err := out.Send(ctx, ch.b); err != nil {
						return err
					}
				}
				switch {
				case ch.err == io.EOF:
					return c.Finish(ctx)
				case ch.err != nil:
					return fmt.Errorf("%s: read: %w", c, ch.err)
				}
			case m := <-ctl:
				if stop, err := c.Control(ctx, m, nil); stop {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	},
		axon.WithInbox(axon.InboxName, "not used"),
		axon.WithOutbox(axon.OutboxName, "[]byte: each chunk read", axon.Carries[[]byte]()),
	)
}

// endOnFinish returns the component that ends the program (tcp-client,
// and a --count once its messages are written): a
// ProducerFinished arriving on its "control" (the connection has ended
// and everything received has been written) ends the program, cleanly if
// the connection ended in an orderly way and with the reason otherwise.
//
// Boxes:
//
//	inbox   (in)  not used
//	control (in)  ProducerFinished: the program ends (exit 0 if its
//	              Reason is nil, or the Client's own failure to connect,
//	              which the Client reports itself; exit 1 with the Reason
//	              otherwise); ShutdownMicroprocess: it ends
//	outbox  (out) not used
//	signal  (out) not used
func endOnFinish(e *env) *axon.Component {
	return axon.New("END", func(ctx context.Context, c *axon.Component) error {
		select {
		case m := <-c.In(axon.ControlName):
			reason, finished := finishReason(m)
			if !finished {
				return nil // ShutdownMicroprocess: the graph is being stopped
			}
			var te *tcp.Error
			if reason != nil && !(errors.As(reason, &te) && te.Op == "connect") {
				return fmt.Errorf("connection ended: %w", reason)
			}
			if reason == nil && e.finish != nil {
				e.finish()
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// echoProtocol is tcp-server --echo's handler: each chunk back as it came.
func echoProtocol(tcp.ConnInfo) axon.Node {
	return util.PureTransformer(func(m any) any { return m })
}

// linePrinter returns tcp-server's default handler factory: each line a
// client sends is written to w, prefixed with the client's address and a
// space, without its line ending ("\n" or "\r\n") and then "\n". A last
// line without an ending is written when the client finishes. A line
// longer than maxLine bytes is reported (env.report) with its number and
// skipped, holding no more than maxLine of it. It sends the client
// nothing.
func linePrinter(w io.Writer, maxLine int, e *env) tcp.Factory {
	return func(ci tcp.ConnInfo) axon.Node {
		prefix := ci.Remote.String() + " "
		var partial []byte
		n := 0            // lines begun
		skipping := false // the rest of line n is too long
		emit := func(line []byte) error {
			line = bytes.TrimSuffix(line, []byte("\r"))
			b := make([]byte, 0, len(prefix)+len(line)+1)
			b = append(append(append(b, prefix...), line...), '\n')
			_, err := w.Write(b)
			return err
		}
		take := func(b []byte) error {
			for len(b) > 0 {
				if len(partial) == 0 && !skipping {
					n++
				}
				seg, rest, ended := bytes.Cut(b, []byte("\n"))
				switch {
				case skipping:
				case len(partial)+len(seg) > maxLine+1: // room for a "\r"
					e.report(fmt.Errorf("connection from %s: %w", ci.Remote, &util.LineError{Line: n, Max: maxLine, Err: util.ErrLineTooLong}))
					skipping, partial = true, nil
				default:
					partial = append(partial, seg...)
				}
				if !ended {
					return nil
				}
				if !skipping {
					if err := emit(partial); err != nil {
						return err
					}
				}
				skipping, partial, b = false, partial[:0], rest
			}
			return nil
		}
		end := func(context.Context) error {
			if len(partial) > 0 && !skipping {
				return emit(partial)
			}
			return nil
		}
		return streamHandler("LinePrinter", take, end)
	}
}

// rawWriter returns tcp-server --once's handler factory: what the client
// sends is written to w as it comes, byte for byte.
func rawWriter(w io.Writer) tcp.Factory {
	return func(tcp.ConnInfo) axon.Node {
		take := func(b []byte) error {
			_, err := w.Write(b)
			return err
		}
		return streamHandler("RawWriter", take, nil)
	}
}

// endAfterClose is tcp-server --once's ONCE: it writes each tcp.Event on
// standard error as it comes, and once a connection has closed (by then
// its handler has written all it received) it ends the program
// (env.finish), counting the connection as a failed item if it did not
// end in an orderly way.
//
// Boxes:
//
//	inbox   (in)  tcp.Event: the server's events
//	control (in)  a shutdown message: passed on, and it ends
func endAfterClose(e *env) *axon.Component {
	return axon.New("EndAfterClose", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(_ context.Context, m any) error {
			ev, ok := m.(tcp.Event)
			if !ok {
				return nil
			}
			fmt.Fprintln(e.stderr, ev)
			if ev.Kind == tcp.Closed {
				if ev.Reason != nil {
					e.fails.add(ev.Reason)
				}
				e.finish()
			}
			return nil
		})
	}, axon.WithInbox(axon.InboxName, "tcp.Event: the server's events", axon.Carries[tcp.Event]()))
}

// streamHandler returns a connection's handler that gives take each
// chunk the client sends, in order. When the client has finished
// (ProducerFinished on "control"), what is queued is taken, end runs
// (nil: nothing to do), and the message is passed on.
//
// Boxes:
//
//	inbox   (in)  []byte: what the client sends
//	control (in)  ProducerFinished (the client finished), as above;
//	              ShutdownMicroprocess: passed on, and it ends
//	outbox  (out) not used
//	signal  (out) the shutdown message that ended it
func streamHandler(name string, take func([]byte) error, end func(ctx context.Context) error) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		return c.ServeThen(ctx, func(_ context.Context, m any) error {
			b, _ := m.([]byte)
			return take(b)
		}, end)
	}, axon.WithInbox(axon.InboxName, "[]byte: what the client sends", axon.Carries[[]byte]()))
}

// finishReason reports whether m is a ProducerFinished and, if it is,
// the Reason it carries.
func finishReason(m any) (reason error, finished bool) {
	switch pf := m.(type) {
	case axon.ProducerFinished:
		return pf.Reason, true
	case *axon.ProducerFinished:
		return pf.Reason, true
	}
	return nil, false
}
