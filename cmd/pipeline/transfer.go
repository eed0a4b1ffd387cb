package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/components/transfer"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// xferSocketBuffer is the socket buffer size the transfer commands ask
// for, so that a window of chunks in flight fits.
const xferSocketBuffer = 4 << 20

var sendfileCommand = &command{
	name:     "sendfile",
	transfer: true,
	summary:  "send a file reliably over UDP to a recvfile",
	args:     "FILE",
	doc: "Sends FILE over UDP to a \"pipeline recvfile\" at --to, reliably: in numbered\n" +
		"chunks with a sliding window, sending again what is lost, and ending with\n" +
		"the file's SHA-256, which the receiver checks before it puts the file in\n" +
		"place. It exits 0 only once the receiver has confirmed that the file\n" +
		"arrived intact, and 1 if it did not (a digest mismatch, a refusal, or no\n" +
		"progress for --timeout), and 130 or 143 if SIGINT or SIGTERM cut it\n" +
		"short: \"pipeline sendfile ... && rm FILE\" removes only a file delivered.\n" +
		"\n" +
		"--loss, --dup and --reorder put a simulated bad network (internet/simulate)\n" +
		"between the sender and its socket, both ways, to see the transfer cope;\n" +
		"--seed makes that network's choices repeatable.\n" +
		"\n" +
		"On a terminal, standard error shows a progress bar (bytes, rate, time\n" +
		"left); otherwise one line at the end: bytes, time, rate, packets and\n" +
		"retransmissions. The graph is\n" +
		"\n" +
		"\tSENDER -> [network] -> PEER (udp.SimplePeer) -> [network] -> SENDER\n" +
		"\n" +
		"(transfer.SendGraph), watched by a PROGRESS component.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		to := fs.String("to", "", "the receiver's `host:port` (required)")
		loss := fs.Float64("loss", 0, "simulate a network that drops this `fraction` (0 to 1) of the datagrams, each way")
		dup := fs.Float64("dup", 0, "simulate a network that repeats this `fraction` of the datagrams, each way")
		reorder := fs.Int("reorder", 0, "simulate a network that reorders datagrams within a window of `n`, each way")
		seed := fs.Uint64("seed", 0, "seed for the simulated network's choices; 0 picks one at random")
		chunk := fs.Int("chunk", transfer.DefaultChunkSize, "file `bytes` per datagram")
		window := fs.Int("window", transfer.DefaultWindow, "`chunks` in flight at most")
		timeout := fs.Duration("timeout", transfer.DefaultTimeout, "give up after this `duration` without progress")
		return func(args []string) (axon.Node, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("%w: want one FILE, got %d arguments", errUsage, len(args))
			}
			if *to == "" {
				return nil, fmt.Errorf("%w: -to is required", errUsage)
			}
			if err := checkTarget("to", *to); err != nil {
				return nil, err
			}
			switch {
			case *loss < 0 || *loss >= 1:
				return nil, fmt.Errorf("%w: -loss %v: want at least 0 and less than 1", errUsage, *loss)
			case *dup < 0 || *dup > 1:
				return nil, fmt.Errorf("%w: -dup %v: want 0 to 1", errUsage, *dup)
			case *reorder < 0:
				return nil, fmt.Errorf("%w: -reorder %d: must not be negative", errUsage, *reorder)
			case *chunk < 1 || *chunk > transfer.MaxChunkSize:
				return nil, fmt.Errorf("%w: -chunk %d: want 1 to %d", errUsage, *chunk, transfer.MaxChunkSize)
			case *window < 1 || *window > transfer.MaxWindow:
				return nil, fmt.Errorf("%w: -window %d: want 1 to %d", errUsage, *window, transfer.MaxWindow)
			case *timeout <= 0:
				return nil, fmt.Errorf("%w: -timeout %v: want a positive duration", errUsage, *timeout)
			}
			path := args[0]
			if fi, err := os.Stat(path); err != nil {
				return nil, err
			} else if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%s is not a regular file", path)
			}
			addr, err := resolveTarget(*to, *timeout)
			if err != nil {
				return nil, err
			}
			peer := udp.SimplePeer(udp.Remote(addr), udp.ReadBuffer(xferSocketBuffer), udp.WriteBuffer(xferSocketBuffer))
			if err := peer.Err(); err != nil {
				return nil, err
			}
			var toNet, fromNet []axon.Node
			if *loss > 0 || *dup > 0 || *reorder > 1 {
				cfg := simulate.Config{Loss: *loss, Duplicate: *dup, Reorder: *reorder, Seed: *seed}
				back := cfg
				if back.Seed != 0 {
					back.Seed++ // the other way, other choices
				}
				toNet, fromNet = []axon.Node{simulate.Network(cfg)}, []axon.Node{simulate.Network(back)}
			}
			opts := []transfer.Option{transfer.ChunkSize(*chunk), transfer.Timeout(*timeout)}
			// Only a window asked for replaces the default, which is also
			// capped in bytes (DefaultWindowBytes) for large chunks.
			if flagSet(fs, "window") {
				opts = append(opts, transfer.Window(*window))
			}
			s := transfer.Sender(path, opts...)
			g := transfer.SendGraph(s, peer, toNet, fromNet)
			return xferGraph(e, g, s.Progress, "sent"), nil
		}
	},
}

var recvfileCommand = &command{
	name:     "recvfile",
	transfer: true,
	summary:  "receive one file from a sendfile over UDP",
	doc: "Binds --listen, says where on standard error (\"listening on\n" +
		"127.0.0.1:40123\"), and receives one file from a \"pipeline sendfile\". The\n" +
		"file is written to a temporary file beside --out and renamed to --out only\n" +
		"once its SHA-256 matches the sender's; on any failure the temporary file\n" +
		"is removed and nothing is left under --out. An --out that is a directory\n" +
		"is refused at once, and one that exists unless --force is given. It exits\n" +
		"0 once the file is in\n" +
		"place (after lingering a second to answer the sender again if needed), and\n" +
		"1 if no sender starts, or the sender goes quiet, for --timeout, or the\n" +
		"digests differ, and 130 or 143 if SIGINT or SIGTERM cut it short. A\n" +
		"second sender is refused while a transfer is under way.\n" +
		"\n" +
		"On a terminal, standard error shows a progress bar; otherwise one line at\n" +
		"the end. The graph is\n" +
		"\n" +
		"\tPEER (udp.PostboxPeer) -> RECEIVER -> PEER\n" +
		"\n" +
		"(transfer.ReceiveGraph), watched by a PROGRESS component.",
	setup: func(fs *flag.FlagSet, e *env) func([]string) (axon.Node, error) {
		var f udpFlags
		f.declare(fs, false, false)
		out := fs.String("out", "", "where to put the file (required)")
		timeout := fs.Duration("timeout", transfer.DefaultTimeout, "give up after this `duration` without a sender, or without progress")
		force := fs.Bool("force", false, "replace --out if it exists")
		return func(args []string) (axon.Node, error) {
			if err := f.check(args); err != nil {
				return nil, err
			}
			if *out == "" {
				return nil, fmt.Errorf("%w: -out is required", errUsage)
			}
			if *timeout <= 0 {
				return nil, fmt.Errorf("%w: -timeout %v: want a positive duration", errUsage, *timeout)
			}
			// Say at once, not after a sender has come, that the file
			// cannot be made where it is asked for.
			if err := checkOut(*out, *force); err != nil {
				return nil, err
			}
			peer, err := f.bindPostbox(e, udp.ReadBuffer(xferSocketBuffer), udp.WriteBuffer(xferSocketBuffer))
			if err != nil {
				return nil, err
			}
			r := transfer.Receiver(*out, transfer.Timeout(*timeout))
			g := transfer.ReceiveGraph(r, peer, nil, nil)
			return xferGraph(e, g, r.Progress, "received"), nil
		}
	},
}

// resolveTarget checks that the host name of the host:port s, if it has
// one, resolves: a name that does not fails at once, with the resolver's
// reason, rather than a transfer that sends into silence until
// --timeout. It returns s unchanged, so that the peer still chooses among
// the addresses as it does for any target (the family its socket
// suits). The lookup may take up to timeout.
func resolveTarget(s string, timeout time.Duration) (string, error) {
	t, err := udp.ParseTarget(s)
	if err != nil || t.Addr.IsValid() {
		return s, err
	}
	host, _, err := net.SplitHostPort(t.Host)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil {
		return "", fmt.Errorf("-to %s: cannot resolve %s: %w", s, host, err)
	}
	return s, nil
}

// xferGraph puts a transfer graph beside the PROGRESS component that
// shows how it goes, and prints the datagrams it ignored on stderr:
//
//	XFER.errors -> ERRORS -> STDERR
//	XFER.signal -> PROGRESS.control; PROGRESS.signal -> ERRORS.control -> STDERR.control
func xferGraph(e *env, g *axon.Component, progress func() transfer.Progress, verb string) *axon.Component {
	nodes, links := e.errorsTailCounting(false)
	maps.Copy(nodes, chassis.Nodes{
		"XFER":     g,
		"PROGRESS": progressMeter(e.stderr, progress, verb),
	})
	maps.Copy(links, chassis.Links{
		{"XFER", transfer.ErrorsBox}: {"ERRORS", "inbox"},
		{"XFER", "signal"}:           {"PROGRESS", "control"},
		{"PROGRESS", "signal"}:       {"ERRORS", "control"},
	})
	return chassis.Graphline(nodes, links)
}

// Errors wrapped by checkOut's.
var (
	errOutIsDir  = errors.New("is a directory: give the path of the file to make")
	errOutExists = errors.New("exists: --force replaces it")
)

// checkOut checks, before anything is received, that recvfile can put
// its file at out: in a directory that exists, not in place of a
// directory, and not over a file unless force says so.
func checkOut(out string, force bool) error {
	if dir := filepath.Dir(out); !isDir(dir) {
		return fmt.Errorf("-out %s: %s is not a directory that exists", out, dir)
	}
	fi, err := os.Stat(out)
	switch {
	case err != nil:
		return nil // nothing there (or nothing that can be seen: the rename will say)
	case fi.IsDir():
		return fmt.Errorf("-out %s: %w", out, errOutIsDir)
	case !force:
		return fmt.Errorf("-out %s: %w", out, errOutExists)
	}
	return nil
}

// isDir reports whether path names an existing directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressMeter returns a component that shows progress() on w: on a
// terminal a bar redrawn five times a second, and in any case a summary
// line once the transfer has ended well.
//
// Boxes:
//
//	control (in)  ProducerFinished (the transfer ended well: print the
//	              summary) or ShutdownMicroprocess; passed on
//	signal  (out) the shutdown message that ended it
func progressMeter(w io.Writer, progress func() transfer.Progress, verb string) *axon.Component {
	return axon.New("Progress", func(ctx context.Context, c *axon.Component) error {
		bar := isTerminal(w)
		var tick <-chan time.Time
		if bar {
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			tick = t.C
		}
		drawn := false
		for {
			select {
			case <-tick:
				if line := progressBar(progress()); line != "" {
					fmt.Fprintf(w, "\r%s", line)
					drawn = true
				}
			case m := <-c.In(axon.ControlName):
				if drawn {
					fmt.Fprintln(w)
				}
				if axon.IsProducerFinished(m) {
					fmt.Fprintln(w, progressSummary(progress(), verb))
				}
				_, err := c.Control(ctx, m, nil)
				return err
			case <-ctx.Done():
				if drawn {
					fmt.Fprintln(w)
				}
				return ctx.Err()
			}
		}
	})
}

// progressBar draws p as one line: a bar, bytes, rate and time left.
func progressBar(p transfer.Progress) string {
	if p.Total == 0 && p.Bytes == 0 {
		return ""
	}
	const width = 30
	frac := 1.0
	if p.Total > 0 {
		frac = float64(p.Bytes) / float64(p.Total)
	}
	n := int(frac * width)
	rate := xferRate(p)
	eta := "--"
	if rate > 0 && p.Total > p.Bytes {
		eta = time.Duration(float64(p.Total-p.Bytes) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("[%s%s] %5.1f%% %s / %s  %s/s  ETA %s   ",
		strings.Repeat("=", n), strings.Repeat(" ", width-n), 100*frac,
		byteSize(float64(p.Bytes)), byteSize(float64(p.Total)), byteSize(rate), eta)
}

// progressSummary is the line printed at the end.
func progressSummary(p transfer.Progress, verb string) string {
	again := "retransmissions"
	if verb == "received" {
		again = "repeats"
	}
	return fmt.Sprintf("%s %d bytes in %v (%s/s), %d packets, %d %s",
		verb, p.Bytes, p.Elapsed.Round(time.Millisecond), byteSize(xferRate(p)), p.Packets, p.Retransmits, again)
}

// xferRate is p's bytes a second so far.
func xferRate(p transfer.Progress) float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Bytes) / p.Elapsed.Seconds()
}

// byteSize formats n bytes with a binary unit.
func byteSize(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", n, units[i])
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}

// flagSet reports whether the flag called name was given on the command
// line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
