package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kamaelia-go/kamaelia/axon"
)

// --graph, --graph-out and --graph-only: a command's graph drawn as
// Graphviz DOT or Mermaid, each node labelled with the name its
// Graphline gives it (STDIN, PEER, FORMAT) and its component's type.

// graphFlags are the flags every command has for drawing its graph.
type graphFlags struct {
	format string
	out    string
	only   bool
}

func (f *graphFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "graph", "", "before running, draw the graph in `format` dot (Graphviz) or mermaid, on standard output or in --graph-out")
	fs.StringVar(&f.out, "graph-out", "", "write the graph drawn for --graph or --graph-only to this `file`")
	fs.BoolVar(&f.only, "graph-only", false, "draw the graph (as dot, unless --graph says otherwise) and exit without running it: its sockets are made and closed again, and nothing is read or sent")
}

// check checks the flags, making --graph-only alone mean dot.
func (f *graphFlags) check() error {
	if f.only && f.format == "" {
		f.format = "dot"
	}
	if f.format != "" && f.format != "dot" && f.format != "mermaid" {
		return fmt.Errorf("%w: -graph %q: want dot or mermaid", errUsage, f.format)
	}
	if f.out != "" && f.format == "" {
		return fmt.Errorf("%w: -graph-out needs -graph or -graph-only", errUsage)
	}
	return nil
}

// draw writes g, as the flags ask, to e.stdout or --graph-out.
func (f *graphFlags) draw(e *env, g axon.Node) error {
	s, label := axon.Inspect(g), axon.LabelBy(nodeLabel)
	text := s.DOT(label)
	if f.format == "mermaid" {
		text = s.Mermaid(label)
	}
	if f.out == "" {
		_, err := io.WriteString(e.stdout, text)
		return err
	}
	if err := os.WriteFile(f.out, []byte(text), 0o644); err != nil {
		return fmt.Errorf("-graph-out: %w", err)
	}
	return nil
}

// nodeLabel labels c with the name its Graphline gives it and its own,
// "STDIN (ConsoleReader)", or with its own name alone if it has no other.
func nodeLabel(c axon.ComponentInfo) string {
	if c.Step == c.Ref.Name {
		return c.Ref.Name
	}
	return c.Step + " (" + c.Ref.Name + ")"
}
