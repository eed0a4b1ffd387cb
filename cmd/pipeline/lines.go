package main

import (
	"flag"
	"fmt"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

// Bounds on what the commands read: every reader of standard input or of
// a stream has a maximum message size, so that no input, however long
// its lines, is held in memory without bound.
const (
	// maxUDPPayload is the most a UDP datagram can carry over IPv4.
	maxUDPPayload = 65507
	// maxStreamLine is the default bound on a line of a stream that is
	// not sent as one datagram: cat's, pub's and tcp-server's.
	maxStreamLine = 1 << 20
)

// lineFlags are the flags of a command that reads standard input line by
// line: --max-line and, for one that sends the lines on, --keep-newlines.
type lineFlags struct {
	max  int
	keep bool
}

// declare declares --max-line, with def as its default and fits saying
// why, and if keep is true --keep-newlines.
func (f *lineFlags) declare(fs *flag.FlagSet, def int, fits string, keep bool) {
	fs.IntVar(&f.max, "max-line", def,
		"the longest line to take, in `bytes` ("+fits+"); a longer one is reported with its number and skipped")
	if keep {
		fs.BoolVar(&f.keep, "keep-newlines", false,
			"send each line with its line ending, so that the bytes sent are exactly the input (as nc -u and socat send)")
	}
}

// check checks --max-line.
func (f *lineFlags) check() error {
	if f.max < 1 {
		return fmt.Errorf("%w: -max-line %d: must be at least 1", errUsage, f.max)
	}
	return nil
}

// reader returns the STDIN component the flags ask for. Its "errors"
// outbox reports the lines it skipped: linkErrors links it to ERRORS.
func (f *lineFlags) reader(e *env) *axon.Component {
	opts := []util.ReaderOption{util.MaxLine(f.max)}
	if f.keep {
		opts = append(opts, util.KeepLineEndings())
	}
	return util.ConsoleReader(e.stdin, opts...)
}

// linkErrors adds to links the link that prints what node (STDIN) skips
// as errors.
func linkErrors(links chassis.Links, node string) chassis.Links {
	links[chassis.Box{node, util.ErrorsBox}] = chassis.Box{"ERRORS", "inbox"}
	return links
}
