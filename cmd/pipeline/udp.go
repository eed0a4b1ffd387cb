package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// What the udp-* commands share: their flags, how they print datagrams,
// and the part of their graphs that prints.

// Formats for received datagrams (--format).
const (
	formatText = "text"
	formatRaw  = "raw"
	formatJSON = "json"
)

// lingerDoc is the part of a sending command's doc that explains how it
// ends: --linger, and the exit code.
const lingerDoc = "After standard input ends it keeps receiving for --linger, then exits:\n" +
	"0 if nothing failed, 1 (saying how many items failed) otherwise;\n" +
	"with --linger 0, the default, it keeps receiving until interrupted\n" +
	"(SIGINT or SIGTERM, which exit as the end of --linger does)."

// formatsDoc is the part of a command's doc that explains --format.
const formatsDoc = "Each datagram received is printed on standard output as --format says:\n" +
	"text (the default) writes, for each line of the payload (less one\n" +
	"trailing newline), the sender, a space and the line, then a newline:\n" +
	"\"127.0.0.1:1500 hello\" or \"[::1]:1500 hello\"; control characters but\n" +
	"tab are escaped (\\x1b), so no line is printed without its sender and\n" +
	"none can act on the terminal. raw writes the payload exactly as it came, adding\n" +
	"nothing (as nc -u does). json writes one object per line,\n" +
	"{\"from\":\"127.0.0.1:1500\",\"data\":\"hello\"}, with the payload as a JSON\n" +
	"string under \"data\" when it is valid UTF-8, and otherwise base64-encoded\n" +
	"under \"data_base64\" instead. Output is buffered, so that it keeps up\n" +
	"with a fast stream, and written out at most about 1 ms after the latest\n" +
	"datagram, and whenever pipeline exits."

// udpFlags are the flags the udp-* commands share.
type udpFlags struct {
	listen string
	linger time.Duration
	format string
}

// declare declares --listen and, as asked, --linger and --format on fs.
func (f *udpFlags) declare(fs *flag.FlagSet, linger, format bool) {
	fs.StringVar(&f.listen, "listen", ":0",
		"the local `host:port` to bind: port 0 is any free port, and no host every interface, IPv4 and IPv6")
	if linger {
		fs.DurationVar(&f.linger, "linger", 0,
			"after standard input ends, keep receiving for this `duration` (300ms, 5s, ...), then exit; 0 keeps receiving until interrupted")
	}
	if format {
		f.declareFormat(fs)
	}
}

// declareFormat declares --format on fs.
func (f *udpFlags) declareFormat(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "format", formatText, "how to print each datagram received: `text`, raw or json")
}

// check checks the shared flags' values, and that no arguments follow
// them.
func (f *udpFlags) check(args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	if err := checkListen(f.listen); err != nil {
		return err
	}
	if f.linger < 0 {
		return fmt.Errorf("%w: -linger %v: must not be negative", errUsage, f.linger)
	}
	if f.format != "" {
		if _, err := datagramFormat(f.format); err != nil {
			return err
		}
	}
	return nil
}

// show returns the function that formats received datagrams for
// --format (text, for a command without it).
func (f *udpFlags) show() func(any) any {
	name := f.format
	if name == "" {
		name = formatText
	}
	fn, err := datagramFormat(name)
	if err != nil {
		panic(err) // check has refused it
	}
	return fn
}

// lingerFor is the delay for util.Linger: --linger, or for 0 (until
// interrupted) a delay that never ends.
func (f *udpFlags) lingerFor() time.Duration {
	if f.linger == 0 {
		return -1
	}
	return f.linger
}

// checkListen checks that s is host:port with a numeric port; the host
// may be empty (every interface), an IP literal or a name of this host.
func checkListen(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		return fmt.Errorf("%w: -listen %q: want host:port, such as 127.0.0.1:1500, [::1]:0 or :1500", errUsage, s)
	}
	return nil
}

// checkTarget checks that s is a destination a peer can send to: host:port
// with a host and a port other than 0.
func checkTarget(flag, s string) error {
	if _, err := udp.ParseTarget(s); err != nil {
		return fmt.Errorf("%w: -%s %q: want host:port, such as 127.0.0.1:1500, [::1]:1500 or myserver.com:1500: %w", errUsage, flag, s, err)
	}
	return nil
}

// datagramFormat returns the function that turns a udp.Datagram into
// what --format name prints.
func datagramFormat(name string) (func(any) any, error) {
	switch name {
	case formatText:
		return func(m any) any {
			if d, ok := m.(udp.Datagram); ok {
				return newTextLine(d)
			}
			return m
		}, nil
	case formatRaw:
		return func(m any) any {
			if d, ok := m.(udp.Datagram); ok {
				return d.Data
			}
			return m
		}, nil
	case formatJSON:
		return func(m any) any {
			if d, ok := m.(udp.Datagram); ok {
				return datagramJSON(d)
			}
			return m
		}, nil
	}
	return nil, fmt.Errorf("%w: -format %q: want text, raw or json", errUsage, name)
}

// textLine is a datagram as --format text prints it: for each line of
// its payload, less one trailing newline, its sender, a space and the
// line, escaped (writeEscaped), then a newline. It formats itself (it is a fmt.Formatter), so the
// ConsoleEchoer printing it writes the pieces straight into its buffer:
// nothing the size of the payload is allocated to print it. A fast stream
// of large datagrams otherwise makes a copy of each payload per piece of
// the line, and the garbage collector's work with them.
type textLine struct {
	data []byte // the payload, less one trailing newline
	addr []byte // the sender's address as text, in buf if it fits
	buf  [48]byte
}

// newTextLine returns d as a textLine.
func newTextLine(d udp.Datagram) *textLine {
	t := &textLine{data: d.Data}
	if n := len(t.data); n > 0 && t.data[n-1] == '\n' {
		t.data = t.data[:n-1]
		if n := len(t.data); n > 0 && t.data[n-1] == '\r' {
			t.data = t.data[:n-1]
		}
	}
	t.addr = d.From.AppendTo(t.buf[:0])
	return t
}

var (
	space          = []byte{' '}
	newline        = []byte{'\n'}
	carriageReturn = []byte{'\r'}
)

// Format writes t's lines to f, whatever the verb: a textLine only ever
// goes to a ConsoleEchoer, which prints it with fmt.Fprint.
func (t *textLine) Format(f fmt.State, _ rune) {
	data := t.data
	for {
		line, rest, more := bytes.Cut(data, newline)
		if more {
			line = bytes.TrimSuffix(line, carriageReturn)
		}
		f.Write(t.addr)
		f.Write(space)
		writeEscaped(f, line, false)
		f.Write(newline)
		if !more {
			return
		}
		data = rest
	}
}

// jsonDatagram is a datagram as --format json prints it.
type jsonDatagram struct {
	From       string  `json:"from"`
	Data       *string `json:"data,omitempty"`
	DataBase64 []byte  `json:"data_base64,omitempty"` // encoding/json writes []byte as base64
}

// datagramJSON returns d as one line of JSON.
func datagramJSON(d udp.Datagram) []byte {
	j := jsonDatagram{From: d.From.String()}
	if utf8.Valid(d.Data) {
		s := string(d.Data)
		j.Data = &s
	} else {
		j.DataBase64 = d.Data
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		// Nothing in a jsonDatagram can fail to encode.
		panic(err)
	}
	return b.Bytes()
}

// errorLine returns the function that turns an error from a peer (or
// elsewhere) into the line printed for it on standard error, counting
// it among the items that failed if counted says so. What could not be
// handed on to a component that had ended because the graph was being
// stopped is not an error: it is left out.
func (e *env) errorLine(counted bool) func(any) any {
	return func(m any) any {
		if err, ok := m.(error); ok && e.stopNoise(err.Error()) {
			return nil
		}
		if counted {
			e.fails.add(m)
		}
		var b strings.Builder
		sayf(&b, e.cmd, "%v", m)
		return strings.TrimSuffix(b.String(), "\n")
	}
}

// report prints err on standard error now, as errorLine has it, counted
// as failed items: for what a component outside an errors tail (a
// connection's handler) meets.
func (e *env) report(err error) {
	if line, ok := e.errorLine(true)(err).(string); ok {
		fmt.Fprintln(e.stderr, line)
	}
}

// announce checks that p (a peer or server already made) could bind,
// and says where it listens on standard error, followed by note if there
// is one. One that could not bind is an error naming the address (exit
// 1).
func announce[P interface {
	Err() error
	LocalAddr() netip.AddrPort
}](e *env, p P, note string) (P, error) {
	if err := p.Err(); err != nil {
		var zero P
		return zero, err
	}
	if note != "" {
		note = " " + note
	}
	if !e.quiet {
		fmt.Fprintf(e.stderr, "listening on %s%s\n", p.LocalAddr(), note)
	}
	return p, nil
}

// errorsTail is the part of a command's Graphline that prints errors on
// standard error, each as errorLine has it, counted as failed items:
//
//	ERRORS -> STDERR
//
// with ERRORS.signal -> STDERR.control, so that STDERR writes out every
// error before it ends. The caller links what reports errors to
// ERRORS.inbox and, if it likes, what ends first to ERRORS.control; it
// merges both maps into its own with maps.Copy.
func errorsTail(e *env) (chassis.Nodes, chassis.Links) {
	return e.errorsTailCounting(true)
}

// errorsTailCounting is errorsTail, counting the errors as failed items
// or not as counted says.
func (e *env) errorsTailCounting(counted bool) (chassis.Nodes, chassis.Links) {
	return chassis.Nodes{
			"ERRORS": util.PureTransformer(e.errorLine(counted)),
			"STDERR": util.ConsoleEchoer(e.stderr, util.WithNewline()),
		}, chassis.Links{
			{"ERRORS", "outbox"}: {"STDERR", "inbox"},
			{"ERRORS", "signal"}: {"STDERR", "control"},
		}
}

// bindPostbox makes the udp.PostboxPeer on --listen, with opts as well,
// and says where it listens, as announce does.
func (f *udpFlags) bindPostbox(e *env, opts ...udp.Option) (*udp.PeerComponent, error) {
	return announce(e, udp.PostboxPeer(append([]udp.Option{udp.Local(f.listen)}, opts...)...), "")
}

// udpGraph is the Graphline of udp-peer, udp-targets and udp-postbox: the
// peer ("PEER") fed by front (which links joins to it), each datagram it
// receives printed on standard output as show formats it, and each error
// it reports printed on standard error:
//
//	PEER.outbox -> FORMAT -> STDOUT
//	PEER.errors -> ERRORS -> STDERR
//
// When the peer has finished, the ProducerFinished it passes on goes
// through ERRORS, STDERR, FORMAT and STDOUT in turn, each finishing what
// it holds before passing it on, so that everything received and every
// error is printed before the graph ends.
func udpGraph(e *env, peer *udp.PeerComponent, show func(any) any, front chassis.Nodes, links chassis.Links) *axon.Component {
	nodes := chassis.Nodes{
		"PEER":   peer,
		"FORMAT": util.PureTransformer(show),
		"STDOUT": util.ConsoleEchoer(e.stdout),
	}
	all := chassis.Links{
		{"PEER", "outbox"}:   {"FORMAT", "inbox"},
		{"PEER", "errors"}:   {"ERRORS", "inbox"},
		{"PEER", "signal"}:   {"ERRORS", "control"},
		{"STDERR", "signal"}: {"FORMAT", "control"},
		{"FORMAT", "outbox"}: {"STDOUT", "inbox"},
		{"FORMAT", "signal"}: {"STDOUT", "control"},
	}
	tailNodes, tailLinks := errorsTail(e)
	maps.Copy(nodes, tailNodes)
	maps.Copy(all, tailLinks)
	maps.Copy(nodes, front)
	maps.Copy(all, links)
	return chassis.Graphline(nodes, all)
}
