package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/components/nats/natsbackplane"
	"github.com/kamaelia-go/kamaelia/components/nats/natsserver"
	"github.com/kamaelia-go/kamaelia/util"
)

// What pub, sub and nats-demo share: a Backplane, local or on NATS, as
// this process's end of a named backplane.

// backplaneFlags are pub's and sub's flags.
type backplaneFlags struct {
	name      string
	url       string
	wait      time.Duration
	jetStream bool
	durable   string // sub only
	count     int    // sub only
}

func (f *backplaneFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "backplane", "", "the backplane's `name` (required)")
	fs.StringVar(&f.url, "nats", "", "share the backplane through the NATS server at this `URL` (nats://host:4222); without it the backplane is this process's alone")
	fs.DurationVar(&f.wait, "wait", 5*time.Second, "how long to wait for the backplane (and its NATS server) to be ready, a `duration`")
	fs.BoolVar(&f.jetStream, "jetstream", false, "with --nats: keep the backplane's messages in a NATS JetStream stream, so that none is lost or repeated while the server restarts (the server must have JetStream enabled)")
}

// declareSub adds sub's own flags.
func (f *backplaneFlags) declareSub(fs *flag.FlagSet) {
	f.declare(fs)
	fs.StringVar(&f.durable, "durable", "", "read through the durable JetStream consumer called `NAME` (implies --jetstream): a sub started again with the same NAME resumes where the last one stopped")
	fs.IntVar(&f.count, "count", 0, "exit 0 once `N` messages have been printed (0: run until interrupted); with --durable, messages that reached sub after the Nth are acknowledged but not printed")
}

func (f *backplaneFlags) check(args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	if f.durable != "" {
		f.jetStream = true
	}
	switch {
	case f.name == "":
		return fmt.Errorf("%w: -backplane is required", errUsage)
	case f.wait <= 0:
		return fmt.Errorf("%w: -wait %v: must be positive", errUsage, f.wait)
	case f.jetStream && f.url == "":
		return fmt.Errorf("%w: --jetstream and --durable need --nats", errUsage)
	}
	return checkCount(f.count)
}

// backplane returns this process's end of the backplane. Without --nats
// it says on stderr that the backplane is this process's alone, for that
// is seldom what someone running pub or sub wants; with it, it checks
// that the NATS server can be reached within --wait, so that a server
// that cannot be is named, with the reason, rather than only the
// backplane that never came.
func (f *backplaneFlags) backplane(e *env) (axon.Node, error) {
	if f.url == "" && !e.quiet {
		sayf(e.stderr, e.cmd, "note: without --nats, backplane %s is in-process only: no other process %s",
			f.name, map[string]string{"pub": "receives what is published", "sub": "can publish to it"}[e.cmd])
	}
	if f.url == "" {
		return backplane.Backplane(f.name), nil
	}
	if err := reachNATS(f.url, f.wait); err != nil {
		return nil, err
	}
	if f.jetStream {
		return backplane.Backplane(f.name, natsbackplane.JetStream(f.url)), nil
	}
	return backplane.Backplane(f.name, natsbackplane.NATS(f.url)), nil
}

// errNATSUnreachable is wrapped by the error for a --nats server that
// could not be reached.
var errNATSUnreachable = errors.New("cannot reach the NATS server")

// reachNATS checks that a TCP connection can be made to a server of
// urls (a NATS URL, or several separated by commas; the port is 4222 if
// none is given), trying again until wait has passed. The error names
// the URL and says why the last try failed.
func reachNATS(urls string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		var errs []error
		for _, raw := range strings.Split(urls, ",") {
			raw = strings.TrimSpace(raw)
			u, err := url.Parse(raw)
			if err != nil || u.Host == "" {
				return fmt.Errorf("%w: -nats %q: want a URL such as nats://127.0.0.1:4222", errUsage, raw)
			}
			host := u.Host
			if u.Port() == "" {
				host = net.JoinHostPort(u.Hostname(), "4222")
			}
			c, err := net.DialTimeout("tcp", host, max(time.Until(deadline), 100*time.Millisecond))
			if err == nil {
				c.Close()
				return nil
			}
			errs = append(errs, fmt.Errorf("%w at %s: %w", errNATSUnreachable, u.Redacted(), err))
		}
		if time.Now().After(deadline) {
			return firstErr(errs...)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var pubCommand = &command{
	name:    "pub",
	summary: "publish input lines on a backplane (with --nats, across processes)",
	doc: "Publishes each line of standard input, without its line ending, as one\n" +
		"message on --backplane. With --nats the backplane is shared through that\n" +
		"NATS server with every other process using the same name, so a\n" +
		"\"pipeline sub\" anywhere receives the lines. It exits 0 when input ends,\n" +
		"once everything has been handed to the server (with --jetstream: once\n" +
		"the server has stored it). The graph: STDIN -> PUB (a\n" +
		"backplane.PublishTo), and BACKPLANE (a backplane.Backplane).",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var f backplaneFlags
		f.declare(fs)
		var lf lineFlags
		lf.declare(fs, maxStreamLine, "1 MiB, NATS's default largest message", false)
		return func(args []string) (axon.Node, error) {
			if err := firstErr(f.check(args), lf.check()); err != nil {
				return nil, err
			}
			bp, err := f.backplane(e)
			if err != nil {
				return nil, err
			}
			nodes, links := errorsTail(e)
			maps.Copy(nodes, chassis.Nodes{
				"BACKPLANE": bp,
				"STDIN":     lf.reader(e),
				"PUB":       backplane.PublishTo(f.name, backplane.Wait(f.wait)),
			})
			maps.Copy(links, chassis.Links{
				{"STDIN", "outbox"}:     {"PUB", "inbox"},
				{"STDIN", "signal"}:     {"PUB", "control"},
				{"PUB", "signal"}:       {"BACKPLANE", "control"},
				{"BACKPLANE", "signal"}: {"ERRORS", "control"},
			})
			return chassis.Graphline(nodes, linkErrors(links, "STDIN")), nil
		}
	},
}

var subCommand = &command{
	name:    "sub",
	summary: "print the messages published on a backplane",
	doc: "Prints each message published on --backplane after it joined as one\n" +
		"line, in order (a message already ending in a newline gets no other).\n" +
		"With --nats it receives from every process sharing the backplane through\n" +
		"that server; with --jetstream or --durable, through a JetStream consumer\n" +
		"that loses nothing while the server restarts, and with --durable NAME\n" +
		"one that resumes where the last sub of that NAME stopped. It runs until\n" +
		"interrupted (SIGINT or SIGTERM), or until it has printed --count lines,\n" +
		"then exits 0 with its output written out. Once it has joined the\n" +
		"backplane it says so on standard error (\"joined backplane NAME\"):\n" +
		"what is published from then on reaches it. The graph: SUB (a\n" +
		"backplane.SubscribeTo) -> STDOUT, and BACKPLANE (a\n" +
		"backplane.Backplane).",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var f backplaneFlags
		f.declareSub(fs)
		return func(args []string) (axon.Node, error) {
			if err := f.check(args); err != nil {
				return nil, err
			}
			bp, err := f.backplane(e)
			if err != nil {
				return nil, err
			}
			opts := []backplane.Option{backplane.Wait(f.wait)}
			if f.durable != "" {
				opts = append(opts, backplane.Durable(f.durable))
			}
			sub := backplane.SubscribeTo(f.name, opts...)
			return chassis.Graphline(chassis.Nodes{
				"BACKPLANE": bp,
				"SUB":       sub,
				"JOINED":    sayJoined(e, f.name, sub),
				"STDOUT":    lineWriter(e.stdout, f.count, e.finish),
			}, chassis.Links{
				{"SUB", "outbox"}: {"STDOUT", "inbox"},
				{"SUB", "signal"}: {"STDOUT", "control"},
			}), nil
		}
	},
}

// lineWriter is sub's output: a component that writes each message on
// its "inbox" to w as a line (messageLine), flushing whenever its inbox
// is empty, and, if count > 0, calls finish once it has written count
// lines and writes no more. When its context ends (a signal) it first
// writes what is already in its inbox: a durable SubscribeTo has
// acknowledged those, and a sub started again will not get them again.
// ProducerFinished on "control" ends it once its inbox is written out.
func lineWriter(w io.Writer, count int, finish func()) *axon.Component {
	return axon.New("LineWriter", func(ctx context.Context, c *axon.Component) error {
		bw := bufio.NewWriter(w)
		written := 0
		write := func(msgs []any) error {
			for _, m := range msgs {
				if count > 0 && written == count {
					return nil
				}
				if err := writeLine(bw, m); err != nil {
					return fmt.Errorf("%s: inbox: write: %w", c, err)
				}
				if written++; written == count {
					finish()
				}
			}
			return nil
		}
		r, ctl := c.Reader(axon.InboxName), c.In(axon.ControlName)
		for {
			select {
			case e := <-r.C():
				err := write(r.Open(e))
				if err == nil && r.Len() == 0 {
					err = bw.Flush()
				}
				if err != nil {
					return err
				}
			case msg := <-ctl:
				if !axon.IsProducerFinished(msg) && !axon.IsShutdownMicroprocess(msg) {
					_, _ = c.Control(ctx, msg, nil) // logs and ignores it
					continue
				}
				if axon.IsProducerFinished(msg) {
					if err := c.Drain(ctx, func(_ context.Context, m any) error { return write([]any{m}) }); err != nil {
						return err
					}
				}
				if err := bw.Flush(); err != nil {
					return err
				}
				return c.PassOn(ctx, msg)
			case <-ctx.Done():
				if err := errors.Join(write(c.Inbox(axon.InboxName).TakeAll()), bw.Flush()); err != nil {
					return err
				}
				return ctx.Err()
			}
		}
	}, axon.WithInbox(axon.InboxName, "messages to print, one a line"))
}

// writeLine writes m to w as messageLine has it, without copying a
// payload to add its "\n". (A bufio.Writer keeps its first error and
// returns it from every later write, so the last write's error says.)
func writeLine(w *bufio.Writer, m any) error {
	var last byte = '\n'
	var err error
	switch v := m.(type) {
	case []byte:
		if len(v) > 0 {
			last = v[len(v)-1]
		} else {
			last = 0
		}
		_, err = w.Write(v)
	case string:
		if len(v) > 0 {
			last = v[len(v)-1]
		} else {
			last = 0
		}
		_, err = w.WriteString(v)
	default:
		_, err = w.WriteString(messageLine(m).(string))
	}
	if last != '\n' {
		err = w.WriteByte('\n')
	}
	return err
}

// messageLine turns a message into a line ending in "\n": a []byte as
// endLine has it, and a string, or anything else as fmt prints it, the
// same way.
func messageLine(m any) any {
	switch v := m.(type) {
	case []byte:
		return endLine(v)
	case string:
		if strings.HasSuffix(v, "\n") {
			return v
		}
		return v + "\n"
	}
	return messageLine(fmt.Sprint(m))
}

// natsDemoLines are what nats-demo publishes.
var natsDemoLines = []string{
	"a backplane is a named hub",
	"publishers send to it without being linked",
	"every subscriber gets every message, in order",
	"and through NATS, so would other processes",
}

var natsDemoCommand = &command{
	name:    "nats-demo",
	summary: "a NATS server, a publisher and two subscribers in one process",
	doc: "Starts a NATS server inside the process on a loopback port, a Backplane\n" +
		"shared through it, a publisher of a few lines and two subscribers, and\n" +
		"prints what each subscriber receives: every line, in order, twice. It\n" +
		"exits 0 once both have everything. Another process could share the\n" +
		"same backplane with \"pipeline sub --backplane demo --nats URL\".",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		return func(args []string) (axon.Node, error) {
			if err := noArgs(args); err != nil {
				return nil, err
			}
			srv, err := natsserver.Start(0, nil)
			if err != nil {
				return nil, err
			}
			if !e.quiet {
				fmt.Fprintf(e.stderr, "NATS server on %s\n", srv.URL())
			}
			const name = "demo"
			label := func(who string) func(any) any {
				return func(m any) any { return fmt.Sprintf("%s got: %s", who, messageLine(m)) }
			}
			sub1, sub2 := backplane.SubscribeTo(name), backplane.SubscribeTo(name)
			bp := backplane.Backplane(name, natsbackplane.NATS(srv.URL()))
			nodes, links := chassis.Nodes{
				"SERVER":    serverKeeper(srv, bp),
				"BACKPLANE": bp,
				"SOURCE":    util.DataSource(natsDemoLines),
				"GATE":      afterJoined(sub1, sub2),
				"PUB":       backplane.PublishTo(name),
				"SUB1":      sub1,
				"SUB2":      sub2,
				"LABEL1":    util.PureTransformer(label("subscriber 1")),
				"LABEL2":    util.PureTransformer(label("subscriber 2")),
			}, chassis.Links{
				{"SOURCE", "outbox"}: {"GATE", "inbox"},
				{"GATE", "outbox"}:   {"PUB", "inbox"},
				{"SUB1", "outbox"}:   {"LABEL1", "inbox"},
				{"SUB2", "outbox"}:   {"LABEL2", "inbox"},
				{"LABEL1", "outbox"}: {"STDOUT", "inbox"},
				{"LABEL2", "outbox"}: {"STDOUT", "inbox"},
			}
			// Each line reaches both subscribers: end once all are out.
			stdoutCounting(e, 2*len(natsDemoLines), nodes, links)
			return chassis.Graphline(nodes, links), nil
		}
	},
}

// serverKeeper is a component that holds srv for as long as the graph
// runs and, when it ends however it ends, shuts it down once client (the
// backplane using it) has ended, so that the client can flush first.
func serverKeeper(srv *natsserver.Server, client axon.Node) *axon.Component {
	return axon.New("NATSServer", func(ctx context.Context, c *axon.Component) error {
		defer func() {
			<-client.Core().Done()
			srv.Shutdown()
		}()
		return c.Serve(ctx, func(context.Context, any) error { return nil })
	}, axon.WithInbox(axon.InboxName, "not used"))
}

// afterJoined is a component that passes messages from "inbox" to
// "outbox" once every one of subs has joined its backplane, so that none
// misses the first messages.
func afterJoined(subs ...*backplane.SubscribeToComponent) *axon.Component {
	return axon.New("AfterJoined", func(ctx context.Context, c *axon.Component) error {
		for _, s := range subs {
			select {
			case <-s.Joined():
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		out := c.Out(axon.OutboxName)
		return c.Serve(ctx, func(ctx context.Context, m any) error { return out.Send(ctx, m) })
	}, axon.WithInbox(axon.InboxName, "messages to pass on once the subscribers have joined"))
}

// sayJoined is a component that writes "joined backplane NAME" on
// standard error once sub has joined, then waits to be stopped.
func sayJoined(e *env, name string, sub *backplane.SubscribeToComponent) *axon.Component {
	return axon.New("SayJoined", func(ctx context.Context, c *axon.Component) error {
		select {
		case <-sub.Joined():
			fmt.Fprintf(e.stderr, "joined backplane %s\n", name)
		case <-ctx.Done():
			return ctx.Err()
		}
		return c.Serve(ctx, func(context.Context, any) error { return nil })
	}, axon.WithInbox(axon.InboxName, "not used"))
}
