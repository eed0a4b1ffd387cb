package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
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
	fs.BoolVar(&f.only, "graph-only", false, "draw the graph (as dot, unless --graph says otherwise) and exit without running it: its sockets are made, but nothing is read or sent")
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
	text := drawGraph(axon.Inspect(g), e.names, f.format == "mermaid")
	if f.out == "" {
		_, err := io.WriteString(e.stdout, text)
		return err
	}
	if err := os.WriteFile(f.out, []byte(text), 0o644); err != nil {
		return fmt.Errorf("-graph-out: %w", err)
	}
	return nil
}

// graphline is chassis.Graphline, remembering the names it gives its
// children for --graph.
func (e *env) graphline(nodes chassis.Nodes, links chassis.Links) *axon.Component {
	if e.names == nil {
		e.names = map[uuid.UUID]string{}
	}
	for name, n := range nodes {
		e.names[n.Core().Ref().ID] = name
	}
	return chassis.Graphline(nodes, links)
}

// drawGraph draws s, the snapshot of a graph that has not run, as DOT or
// (mermaid) as a Mermaid flowchart. The root, the command's Graphline,
// is the drawing itself; a component with children is a cluster
// (subgraph) of them. Each component is labelled with its name in
// names, if it has one there, and its type; links are labelled with the
// boxes they join.
func drawGraph(s axon.Snapshot, names map[uuid.UUID]string, mermaid bool) string {
	ids := map[uuid.UUID]string{} // component -> node id in the drawing
	kids := map[uuid.UUID][]axon.ComponentInfo{}
	var root uuid.UUID
	for i, c := range s.Components {
		ids[c.Ref.ID] = fmt.Sprintf("n%d", i)
		if c.Parent == nil {
			root = c.Ref.ID
		} else {
			kids[c.Parent.ID] = append(kids[c.Parent.ID], c)
		}
	}
	for _, k := range kids {
		slices.SortFunc(k, func(a, b axon.ComponentInfo) int {
			return strings.Compare(names[a.Ref.ID]+a.Ref.Name, names[b.Ref.ID]+b.Ref.Name)
		})
	}
	label := func(r axon.Ref) string {
		if n, ok := names[r.ID]; ok {
			return n + " (" + r.Name + ")"
		}
		return r.Name
	}
	var b strings.Builder
	if mermaid {
		b.WriteString("flowchart LR\n")
	} else {
		b.WriteString("digraph pipeline {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n  edge [fontsize=9];\n")
	}
	var emit func(id uuid.UUID, indent string)
	emit = func(id uuid.UUID, indent string) {
		for _, c := range kids[id] {
			n, l := ids[c.Ref.ID], label(c.Ref)
			switch {
			case len(kids[c.Ref.ID]) == 0 && mermaid:
				fmt.Fprintf(&b, "%s%s[\"%s\"]\n", indent, n, mermaidEscape(l))
			case len(kids[c.Ref.ID]) == 0:
				fmt.Fprintf(&b, "%s%s [label=\"%s\"];\n", indent, n, dotEscape(l))
			case mermaid:
				fmt.Fprintf(&b, "%ssubgraph %s [\"%s\"]\n", indent, n, mermaidEscape(l))
				emit(c.Ref.ID, indent+"  ")
				fmt.Fprintf(&b, "%send\n", indent)
			default:
				// A point stands for the cluster itself, where its own
				// boxes' links end.
				fmt.Fprintf(&b, "%ssubgraph cluster_%s {\n%s  label=\"%s\";\n%s  %s [shape=point];\n",
					indent, n, indent, dotEscape(l), indent, n)
				emit(c.Ref.ID, indent+"  ")
				fmt.Fprintf(&b, "%s}\n", indent)
			}
		}
	}
	emit(root, "  ")
	for _, l := range s.Links {
		from, okF := ids[l.From.ID]
		to, okT := ids[l.To.ID]
		if !okF || !okT || l.From.ID == root || l.To.ID == root {
			continue
		}
		if mermaid {
			fmt.Fprintf(&b, "  %s -->|%s| %s\n", from, mermaidEscape(l.FromBox+" → "+l.ToBox), to)
		} else {
			fmt.Fprintf(&b, "  %s -> %s [label=\"%s\"];\n", from, to, dotEscape(l.FromBox+" → "+l.ToBox))
		}
	}
	if !mermaid {
		b.WriteString("}\n")
	}
	return b.String()
}

// dotEscape makes s safe inside a DOT double-quoted string.
func dotEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// mermaidEscape makes s safe inside a Mermaid quoted label.
func mermaidEscape(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "|", "#124;").Replace(s)
}
