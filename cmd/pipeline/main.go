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
// Each command builds one graph and runs it until it ends by itself, or
// until SIGINT or SIGTERM cancels it. The exit status is 0 when the
// command did its job and nothing failed; 1 when anything failed (the last
// line on standard error says how many items); 2 for bad usage; and 130
// or 143 when SIGINT or SIGTERM cut short a transfer (sendfile, recvfile,
// publish). pipeline --help says so too (exitDoc).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/observe"
)

// Exit codes. A transfer cut short by a signal exits 128 plus the
// signal's number (interrupted.exitCode).
const (
	exitOK      = 0
	exitFailure = 1 // something failed
	exitUsage   = 2 // bad command line
)

// exitDoc is the exit-status rule, as pipeline --help gives it.
const exitDoc = `Exit status:
  0    the command did its job and nothing failed. A command that runs
       until interrupted (udp-echo, multicast-listen, subscribe, sub,
       tcp-server, or a udp-peer still receiving) exits 0 on SIGINT or
       SIGTERM if nothing failed.
  1    something failed: a component, or items (lines, datagrams,
       messages) that could not be read, sent or received; the last
       line on standard error says how many items.
  2    bad usage.
  130  SIGINT, or 143 SIGTERM, cut short a transfer: sendfile, recvfile
       or publish before it had finished.`

// command is one subcommand. Each lives in a file of its own.
type command struct {
	name    string // as typed after "pipeline"
	summary string // one line for the command list
	doc     string // a paragraph for the command's own usage
	args    string // what follows the flags in the usage line, if anything
	// transfer marks a command whose job is done only when it ends by
	// itself: a signal that cuts it short is its failure (exit 130 or
	// 143).
	transfer bool
	// setup declares the command's flags on fs and returns the function that
	// builds its graph once the flags are parsed. The graph reads from
	// env.stdin and writes to env.stdout. An error from build that wraps
	// errUsage is a usage error (exit 2); any other error exits 1.
	setup func(fs *flag.FlagSet, env *env) (build func(args []string) (axon.Node, error))
}

// env is what a command's graph may use of the process.
type env struct {
	cmd    string // the command's name
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer // safe for use by several goroutines
	// fails counts the items that failed while the graph ran.
	fails failures
	// quiet is set for --graph-only: "listening on" and notes are not
	// said (errors are).
	quiet bool
	// stopping reports whether the running graph is being stopped (by a
	// signal, or finish). Set by runCommand.
	stopping func() bool
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
	os.Exit(run(signalContext(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole program except for the process itself: it parses args
// (without the program name), runs the chosen command's graph under ctx
// and returns the exit code. A usage error is one line on stderr and a
// pointer to the help, not the help itself.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	stderr = &lockedWriter{w: stderr}
	if len(args) == 0 {
		return usageError(stderr, "", "no command given")
	}
	switch name := args[0]; name {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		fmt.Fprintln(stdout, "pipeline", version())
		return exitOK
	case "help":
		if len(args) == 1 {
			usage(stdout)
			return exitOK
		}
		c := lookup(args[1])
		if c == nil || len(args) > 2 {
			return usageError(stderr, "", fmt.Sprintf("help: unknown command %q", strings.Join(args[1:], " ")))
		}
		fs, _ := newFlagSet(c, &env{cmd: c.name, stdin: stdin, stdout: stdout, stderr: stderr})
		commandUsage(stdout, c, fs)
		return exitOK
	default:
		c := lookup(name)
		if c == nil {
			return usageError(stderr, "", fmt.Sprintf("unknown command %q", name))
		}
		return runCommand(ctx, c, args[1:], &env{cmd: c.name, stdin: stdin, stdout: stdout, stderr: stderr})
	}
}

// usageError reports a usage error of cmd ("" for pipeline itself) in
// one line, then where the help is, and returns exitUsage.
func usageError(stderr io.Writer, cmd, msg string) int {
	sayf(stderr, cmd, "%s", msg)
	help := "pipeline --help"
	if cmd != "" {
		help = "pipeline " + cmd + " --help"
	}
	fmt.Fprintf(stderr, "run '%s' for usage\n", help)
	return exitUsage
}

// version is the module's version and the revision it was built from,
// as the build recorded them.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	v := bi.Main.Version
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		v += " " + rev[:min(len(rev), 12)]
		if settings["vcs.modified"] == "true" {
			v += "+modified"
		}
	}
	return v + " " + bi.GoVersion
}

// newFlagSet makes c's flag set, silent so that run decides where help and
// errors go, and the function that builds c's graph once the flags are
// parsed. That function returns the graph to run, or nil if there is
// none (--graph-only), and the --observe server it started, if any,
// which the caller shuts down once the graph has ended.
func newFlagSet(c *command, e *env) (*flag.FlagSet, func([]string) (axon.Node, *observe.Server, error)) {
	fs := flag.NewFlagSet("pipeline "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	build := c.setup(fs, e)
	var gf graphFlags
	gf.declare(fs)
	observeAddr := fs.String("observe", "", observeFlagDoc)
	return fs, func(args []string) (axon.Node, *observe.Server, error) {
		if err := gf.check(); err != nil {
			return nil, nil, err
		}
		e.quiet = gf.only
		if gf.only {
			e.stdin = strings.NewReader("") // a graph that will not run reads nothing
		}
		g, err := build(args)
		if err != nil {
			release(g)
			return nil, nil, err
		}
		if gf.format != "" {
			if err := gf.draw(e, g); err != nil || gf.only {
				release(g)
				return nil, nil, err // nothing to run
			}
		}
		if *observeAddr == "" {
			return g, nil, nil
		}
		srv, err := startObserve(g, *observeAddr, e.stderr)
		if err != nil {
			release(g)
			return nil, nil, err
		}
		return g, srv, nil
	}
}

// release lets go of what g, a graph that will not run, holds: the
// sockets its peers and servers bound when they were made, a server its
// command started for it. Each component lets go of what it holds when
// its main loop ends, so g is run under a context that has already ended
// (every main loop returns at once) and waited for. g may be nil.
func release(g axon.Node) {
	if g == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = axon.Run(ctx, g) // its errors are those of a graph stopped before it began
}

// runCommand parses c's flags, builds its graph and runs it, and turns
// the outcome into the exit code as exitDoc says.
func runCommand(ctx context.Context, c *command, args []string, e *env) int {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.finish = cancel
	e.stopping = func() bool { return runCtx.Err() != nil }
	// What the library logs is said as pipeline says everything else.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(&logHandler{e: e}))
	fs, build := newFlagSet(c, e)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandUsage(e.stdout, c, fs)
			return exitOK
		}
		return usageError(e.stderr, c.name, err.Error())
	}
	g, srv, err := build(fs.Args())
	switch {
	case errors.Is(err, errUsage):
		return usageError(e.stderr, c.name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
	case err != nil:
		sayf(e.stderr, c.name, "%v", err)
		return exitFailure
	case g == nil:
		return exitOK // nothing to run (--graph-only)
	}
	code, cutShort := runGraph(runCtx, c.name, g, e.stderr)
	if srv != nil {
		stopObserve(srv, e.stderr)
	}
	if sig, ok := interruption(ctx); ok && cutShort && c.transfer {
		sayf(e.stderr, c.name, "%v before it had finished", sig)
		code = sig.exitCode()
	}
	if n := e.fails.count(); n > 0 {
		sayf(e.stderr, c.name, "%s", summary(n))
		if code == exitOK {
			code = exitFailure
		}
	}
	return code
}

// runGraph runs g until it ends and turns the outcome into an exit code.
// Cancellation of ctx (a signal) is a clean end, which cutShort reports;
// a component failure is reported on stderr, naming the component.
func runGraph(ctx context.Context, name string, g axon.Node, stderr io.Writer) (code int, cutShort bool) {
	err := axon.Run(ctx, g)
	var ce *axon.ComponentError
	switch {
	case err == nil:
		return exitOK, false
	case errors.As(err, &ce):
		// err may join several component errors: report them all.
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return exitOK, true
	}
	sayf(stderr, name, "%v", err)
	return exitFailure, false
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
	fmt.Fprintln(w, exitDoc)
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "pipeline <command> --help" for a command's flags, and`)
	fmt.Fprintln(w, `"pipeline --version" for the version.`)
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

// firstErr returns the first of errs that is not nil: the checks of a
// command's flags, in order, report the first that fails.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
