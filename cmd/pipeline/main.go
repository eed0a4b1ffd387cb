// Command pipeline runs kamaelia-go component graphs from the command line:
// a short demo, and small tools built from the library's components: cat;
// the UDP tools udp-peer, udp-targets, udp-postbox and udp-echo, which are
// Kamaelia's UDP examples made usable against any other UDP program; the
// multicast tools multicast-send, multicast-listen, publish and subscribe;
// the backplane tools pub, sub and nats-demo; tcp-client and tcp-server,
// netcat-like; and sendfile and recvfile, a file transfer over UDP that
// survives loss.
//
// Usage:
//
//	pipeline <command> [flags]
//	pipeline <command> --help
//
// Each command builds one graph and runs it until it ends by itself. On
// SIGINT or SIGTERM the graph's context is cancelled, its components stop,
// and pipeline exits 0. A component that fails is reported on standard
// error by name and pipeline exits 1. Bad usage exits 2.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // a component failed
	exitUsage   = 2 // bad command line
)

// command is one subcommand. Each lives in a file of its own.
type command struct {
	name    string // as typed after "pipeline"
	summary string // one line for the command list
	doc     string // a paragraph for the command's own usage
	args    string // what follows the flags in the usage line, if anything
	// setup declares the command's flags on fs and returns the function that
	// builds its graph once the flags are parsed. The graph reads from
	// env.stdin and writes to env.stdout. An error from build that wraps
	// errUsage is a usage error (exit 2); any other error exits 1.
	setup func(fs *flag.FlagSet, env *env) (build func(args []string) (axon.Node, error))
}

// env is what a command's graph may use of the process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// finish ends the running graph cleanly (exit 0), as a signal does:
	// for a command that knows when it has done its job. Set by
	// runCommand; nil outside it.
	finish func()
}

// errUsage marks an error in what the user typed.
var errUsage = errors.New("usage")

// commands lists the subcommands in the order the usage shows them.
var commands = []*command{
	demoCommand,
	catCommand,
	udpPeerCommand,
	udpTargetsCommand,
	udpPostboxCommand,
	udpEchoCommand,
	multicastSendCommand,
	multicastListenCommand,
	publishCommand,
	subscribeCommand,
	pubCommand,
	subCommand,
	natsDemoCommand,
	tcpClientCommand,
	tcpServerCommand,
	sendfileCommand,
	recvfileCommand,
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default handling so that a second
	// one kills a graph that does not stop.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program except for the process itself: it parses args
// (without the program name), runs the chosen command's graph under ctx
// and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "pipeline: no command given")
		usage(stderr)
		return exitUsage
	}
	switch name := args[0]; name {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "help":
		if len(args) == 1 {
			usage(stdout)
			return exitOK
		}
		c := lookup(args[1])
		if c == nil || len(args) > 2 {
			fmt.Fprintf(stderr, "pipeline help: unknown command %q\n", strings.Join(args[1:], " "))
			usage(stderr)
			return exitUsage
		}
		fs, _ := newFlagSet(c, &env{stdin: stdin, stdout: stdout, stderr: stderr})
		commandUsage(stdout, c, fs)
		return exitOK
	default:
		c := lookup(name)
		if c == nil {
			fmt.Fprintf(stderr, "pipeline: unknown command %q\n", name)
			usage(stderr)
			return exitUsage
		}
		return runCommand(ctx, c, args[1:], &env{stdin: stdin, stdout: stdout, stderr: stderr})
	}
}

// newFlagSet makes c's flag set, silent so that run decides where help and
// errors go.
func newFlagSet(c *command, e *env) (*flag.FlagSet, func([]string) (axon.Node, error)) {
	fs := flag.NewFlagSet("pipeline "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	build := c.setup(fs, e)
	graph := fs.String("graph", "", "before running, print the graph on stderr in `format` dot (Graphviz) or mermaid")
	observeAddr := fs.String("observe", "", observeFlagDoc)
	return fs, func(args []string) (axon.Node, error) {
		if *graph != "" && *graph != "dot" && *graph != "mermaid" {
			return nil, fmt.Errorf("%w: -graph %q: want dot or mermaid", errUsage, *graph)
		}
		g, err := build(args)
		if err == nil && *observeAddr != "" {
			err = startObserve(g, *observeAddr, e.stderr)
		}
		if err != nil || *graph == "" {
			return g, err
		}
		snap := axon.Inspect(g)
		text := snap.Mermaid()
		if *graph == "dot" {
			text = snap.DOT()
		}
		_, err = io.WriteString(e.stderr, text)
		return g, err
	}
}

// runCommand parses c's flags, builds its graph and runs it.
func runCommand(ctx context.Context, c *command, args []string, e *env) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.finish = cancel
	fs, build := newFlagSet(c, e)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandUsage(e.stdout, c, fs)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "pipeline %s: %v\n", c.name, err)
		commandUsage(e.stderr, c, fs)
		return exitUsage
	}
	g, err := build(fs.Args())
	if err != nil {
		fmt.Fprintf(e.stderr, "pipeline %s: %v\n", c.name, err)
		if errors.Is(err, errUsage) {
			commandUsage(e.stderr, c, fs)
			return exitUsage
		}
		return exitFailure
	}
	return runGraph(ctx, c.name, g, e.stderr)
}

// runGraph runs g until it ends and turns the outcome into an exit code.
// Cancellation of ctx (a signal) is a clean end; a component failure is
// reported on stderr, naming the component.
func runGraph(ctx context.Context, name string, g axon.Node, stderr io.Writer) int {
	err := axon.Run(ctx, g)
	var ce *axon.ComponentError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		// err may join several component errors: report them all.
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return exitOK
	}
	fmt.Fprintf(stderr, "pipeline %s: %v\n", name, err)
	return exitFailure
}

// noArgs is the build-time check of a command that takes no arguments.
func noArgs(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, args[0])
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "pipeline runs kamaelia-go component graphs.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	fmt.Fprintln(w, "  pipeline <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	width := len("help")
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-*s  %s\n", width, "help", "show this list, or one command's flags")
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "pipeline <command> --help" for a command's flags.`)
}

func commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	line := "pipeline " + c.name
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		line += " [flags]"
	}
	if c.args != "" {
		line += " " + c.args
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", line, c.doc)
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}
