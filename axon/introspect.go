package axon

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Snapshot is a picture of a graph at one moment: its components, their
// boxes with queue depths and message counts, and the links between them.
// Counts are read without stopping the graph, so a busy graph's figures
// are each exact but not taken at quite the same instant.
type Snapshot struct {
	Components []ComponentInfo
	Links      []LinkInfo
}

// Component states, as ComponentInfo.State and watch events name them.
const (
	StateBuilt   = "built"   // made, not started
	StateRunning = "running" // started, main loop or children still running
	StateEnded   = "ended"   // ended without failing
	StateFailed  = "failed"  // its main loop returned an error or panicked, or it was misbuilt
)

// ComponentInfo describes one component in a Snapshot.
type ComponentInfo struct {
	Ref    Ref
	Parent *Ref // nil for the root
	// Path names the component by where it sits: the names its
	// ancestors and it are given by their containers, joined by "/"
	// (see Component.Path).
	Path string
	// Step is the last step of Path: the name the component's container
	// gives it, or for the root its own name.
	Step  string
	State string // StateBuilt, StateRunning, StateEnded or StateFailed
	// Handled counts the messages taken out of the component's inboxes
	// other than control (see Inbox.Taken): the work its main loop has
	// been given.
	Handled  uint64
	Inboxes  []BoxInfo
	Outboxes []BoxInfo
}

// BoxInfo describes one box in a Snapshot.
type BoxInfo struct {
	Name     string
	Doc      string
	Type     string // declared Go type, or "" for any
	Queued   int    // inboxes: messages waiting
	Capacity int    // inboxes: capacity; 0 for a passthrough-only box
	Arrived  uint64 // inboxes: messages put in since the box was made
	Taken    uint64 // inboxes: messages taken out (see Inbox.Taken)
	Waits    uint64 // inboxes: sends that found the box full and waited
	Sent     uint64 // outboxes: messages delivered through it
	Dest     string // outboxes: "component.box" a message would reach now, or ""
}

// LinkInfo describes one link in a Snapshot.
type LinkInfo struct {
	From, To       Ref
	FromBox, ToBox string
	Passthrough    bool
}

// Inspect takes a snapshot of n and everything beneath it.
func Inspect(n Node) Snapshot {
	linkMu.Lock()
	defer linkMu.Unlock()
	return inspectLocked(n.Core())
}

// inspectLocked is Inspect with linkMu held.
func inspectLocked(root *Component) Snapshot {
	var s Snapshot
	path, step := root.pathStepLocked()
	s.walk(root, path, step)
	return s
}

// walk adds c, whose path is path ending in step, and everything beneath
// it. Called with linkMu held.
func (s *Snapshot) walk(c *Component, path, step string) {
	ci := ComponentInfo{Ref: c.Ref(), Path: path, Step: step}
	if c.parent != nil {
		r := c.parent.Ref()
		ci.Parent = &r
	}
	c.mu.Lock()
	ci.State = c.stateName()
	kids := append([]*Component(nil), c.children...)
	byPlace := c.byPlace
	if c.rare != nil {
		ci.Handled = c.rare.gone
	}
	c.mu.Unlock()
	ins, outs := c.allBoxes()
	for _, b := range ins {
		bi := BoxInfo{Name: b.name, Doc: b.doc, Type: typeName(b.typ), Queued: b.Len(), Capacity: b.Cap()}
		if b.ch != nil {
			bi.Arrived = b.arrived()
			bi.Taken = b.takenFrom(bi.Arrived) // one walk of the feeders for both
			bi.Waits = b.Waits()
			if !b.control {
				ci.Handled += bi.Taken
			}
		}
		ci.Inboxes = append(ci.Inboxes, bi)
		if b.fwd != nil {
			s.Links = append(s.Links, LinkInfo{From: c.Ref(), FromBox: b.name, To: b.fwd.owner.Ref(), ToBox: b.fwd.name, Passthrough: true})
		}
	}
	for _, b := range outs {
		bi := BoxInfo{Name: b.name, Doc: b.doc, Type: typeName(b.typ), Sent: b.sent.Load()}
		if d := b.dest.Load(); d != nil {
			bi.Dest = d.String()
		}
		ci.Outboxes = append(ci.Outboxes, bi)
		switch {
		case b.to != nil:
			s.Links = append(s.Links, LinkInfo{From: c.Ref(), FromBox: b.name, To: b.to.owner.Ref(), ToBox: b.to.name})
		case b.up != nil:
			s.Links = append(s.Links, LinkInfo{From: c.Ref(), FromBox: b.name, To: b.up.owner.Ref(), ToBox: b.up.name, Passthrough: true})
		}
	}
	s.Components = append(s.Components, ci)
	for i, st := range steps(kids, byPlace) {
		s.walk(kids[i], path+"/"+st, st)
	}
}

// stateName names c's state. Called with c.mu held.
func (c *Component) stateName() string {
	switch {
	case c.broke:
		return StateFailed
	case c.state == phaseBuilt:
		return StateBuilt
	case c.state == phaseRunning:
		return StateRunning
	}
	return StateEnded
}

// Path names c by where it sits in its graph: the root's name, then for
// each component on the way down to c the name its container gave it
// (AddNamedChild: a Graphline's node names, a Carousel's "child"; a
// Pipeline's places, see NameChildrenByPlace) or else its own name. Two children of one parent that would share a step are
// told apart by "#2", "#3"..., in the order they were added. Paths are
// what metrics are labelled with, so they stay readable and few: they
// carry no ids.
func (c *Component) Path() string {
	linkMu.Lock()
	defer linkMu.Unlock()
	return c.pathLocked()
}

// pathLocked is Path with linkMu held.
func (c *Component) pathLocked() string {
	path, _ := c.pathStepLocked()
	return path
}

// pathStepLocked is c's path and its last step. Called with linkMu held.
func (c *Component) pathStepLocked() (path, step string) {
	p := c.parent
	if p == nil {
		return c.name, c.name
	}
	p.mu.Lock()
	kids := p.children
	i := slices.Index(kids, c)
	var st string
	if i >= 0 {
		st = steps(kids[:i+1], p.byPlace)[i]
	}
	p.mu.Unlock()
	return p.pathLocked() + "/" + st, st
}

// steps are the path steps of kids, siblings in the order they were
// added; byPlace: their parent names them by place (see
// NameChildrenByPlace). A name already taken by an earlier sibling gets
// "#2", "#3"...: counted as it goes, so that a parent of n children
// costs O(n), not a scan of the earlier siblings for each. Called with
// linkMu held (labels).
func steps(kids []*Component, byPlace bool) []string {
	out := make([]string, len(kids))
	seen := make(map[string]int, len(kids))
	for i, k := range kids {
		name := k.stepName()
		seen[name]++
		switch n := seen[name]; {
		case byPlace && k.label == "":
			out[i] = strconv.Itoa(i+1) + ":" + k.name
		case n == 1:
			out[i] = name
		default:
			out[i] = name + "#" + strconv.Itoa(n)
		}
	}
	return out
}

// NameChildrenByPlace makes c name its children in paths by their place
// among its children and their own names, "1:Source", "2:Slow", as
// Pipeline does, unless AddNamedChild gave one a name. The step is worked
// out when a path is asked for, so the children pay nothing for it.
func (c *Component) NameChildrenByPlace() {
	c.mu.Lock()
	c.byPlace = true
	c.mu.Unlock()
}

func (c *Component) stepName() string {
	if c.label != "" {
		return c.label
	}
	return c.name
}

func typeName(t interface{ String() string }) string {
	if t == nil {
		return ""
	}
	return t.String()
}

// nodeIDs names the snapshot's components in a drawing by their places
// in it, "n0", "n1"...: a graph is drawn the same way every time it is
// drawn, whatever its ids.
func (s Snapshot) nodeIDs() map[Ref]string {
	ids := make(map[Ref]string, len(s.Components))
	for i, c := range s.Components {
		ids[c.Ref] = "n" + strconv.Itoa(i)
	}
	return ids
}

// children groups the snapshot's components by parent id; "" holds the
// roots: components whose parent is not among ids.
func (s Snapshot) children(ids map[Ref]string) map[string][]ComponentInfo {
	m := make(map[string][]ComponentInfo)
	for _, c := range s.Components {
		key := ""
		if c.Parent != nil {
			if _, in := ids[*c.Parent]; in {
				key = c.Parent.ID.String()
			}
		}
		m[key] = append(m[key], c)
	}
	return m
}

// outside lists the components that links lead to or come from but that
// are not among ids (a Handle, or the rest of a larger graph), and adds
// an id for each.
func (s Snapshot) outside(ids map[Ref]string) []Ref {
	var refs []Ref
	for _, l := range s.Links {
		for _, r := range []Ref{l.From, l.To} {
			if _, in := ids[r]; !in {
				ids[r] = "n" + strconv.Itoa(len(ids))
				refs = append(refs, r)
			}
		}
	}
	return refs
}

// A DrawOption changes how Snapshot.DOT and Snapshot.Mermaid draw.
type DrawOption func(*drawing)

// drawing is what the DrawOptions given say.
type drawing struct {
	label func(ComponentInfo) string // nil: the reference, state and queues
}

// LabelBy labels each component's node with label(c), in place of its
// reference (name and id), state and queues: to draw a graph's shape
// alone, say, naming each component by its path step, which a
// Graphline's node names make readable.
func LabelBy(label func(c ComponentInfo) string) DrawOption {
	return func(d *drawing) { d.label = label }
}

// dialect is how one language writes each part of a drawing. The
// formats take their operands by index.
type dialect struct {
	head, tail string
	sep        string // between a node's reference and its state, and before "(outside)"
	escape     func(string) string
	leaf       string // indent, id, label
	open       string // a component with children: indent, id, label, name
	close      string // indent
	outside    string // id, label
	edge       string // from, to, label, style
	plain      string // style of a link
	passthru   string // style of a passthrough link
}

var dotDialect = dialect{
	head:     "digraph axon {\n  rankdir=LR;\n  node [shape=record, fontsize=10];\n  edge [fontsize=9];\n",
	tail:     "}\n",
	sep:      "\n",
	escape:   dotEscape,
	leaf:     "%[1]s%[2]s [label=\"%[3]s\"];\n",
	open:     "%[1]ssubgraph cluster_%[2]s {\n%[1]s  label=\"%[3]s\";\n%[1]s  %[2]s [label=\"%[4]s\", shape=point];\n",
	close:    "%[1]s}\n",
	outside:  "  %[1]s [label=\"%[2]s\", style=dashed];\n",
	edge:     "  %[1]s -> %[2]s [label=\"%[3]s\"%[4]s];\n",
	passthru: ", style=dashed",
}

var mermaidDialect = dialect{
	head:     "flowchart LR\n",
	sep:      " ",
	escape:   mermaidEscape,
	leaf:     "%[1]s%[2]s[\"%[3]s\"]\n",
	open:     "%[1]ssubgraph %[2]s [\"%[3]s\"]\n",
	close:    "%[1]send\n",
	outside:  "  %[1]s([\"%[2]s\"])\n",
	edge:     "  %[1]s %[4]s|\"%[3]s\"| %[2]s\n",
	plain:    "-->",
	passthru: "-.->",
}

// DOT renders the snapshot in Graphviz's language: a component with
// children is a cluster, every other component a box listing its queues,
// every link an edge labelled with its boxes (dashed for passthrough).
// Nodes are named by their places in the snapshot, so that a graph built
// the same way is drawn the same way; LabelBy changes what they say.
func (s Snapshot) DOT(opts ...DrawOption) string { return s.draw(dotDialect, opts) }

// Mermaid renders the snapshot as a Mermaid flowchart: components with
// children become subgraphs, links become labelled arrows (dotted for
// passthrough). Nodes are named as DOT names them.
func (s Snapshot) Mermaid(opts ...DrawOption) string { return s.draw(mermaidDialect, opts) }

// draw renders the snapshot in the language d: each component nested in
// its parent, then the components outside it that its links reach, then
// the links.
func (s Snapshot) draw(d dialect, opts []DrawOption) string {
	var dr drawing
	for _, o := range opts {
		o(&dr)
	}
	label := dr.label
	if label == nil {
		label = func(c ComponentInfo) string { return c.Ref.String() + d.sep + c.State + queueSummary(c) }
	}
	var b strings.Builder
	b.WriteString(d.head)
	ids := s.nodeIDs()
	kids := s.children(ids)
	var emit func(c ComponentInfo, indent string)
	emit = func(c ComponentInfo, indent string) {
		sub := kids[c.Ref.ID.String()]
		id, l := ids[c.Ref], d.escape(label(c))
		if len(sub) == 0 {
			fmt.Fprintf(&b, d.leaf, indent, id, l)
			return
		}
		fmt.Fprintf(&b, d.open, indent, id, l, d.escape(c.Ref.Name))
		for _, k := range sub {
			emit(k, indent+"  ")
		}
		fmt.Fprintf(&b, d.close, indent)
	}
	for _, r := range kids[""] {
		emit(r, "  ")
	}
	for _, r := range s.outside(ids) {
		fmt.Fprintf(&b, d.outside, ids[r], d.escape(r.String()+d.sep+"(outside)"))
	}
	for _, l := range s.Links {
		style := d.plain
		if l.Passthrough {
			style = d.passthru
		}
		fmt.Fprintf(&b, d.edge, ids[l.From], ids[l.To], d.escape(l.FromBox+"→"+l.ToBox), style)
	}
	b.WriteString(d.tail)
	return b.String()
}

// queueSummary lists inboxes holding messages and outboxes' counts.
func queueSummary(c ComponentInfo) string {
	var parts []string
	for _, in := range c.Inboxes {
		if in.Queued > 0 {
			parts = append(parts, fmt.Sprintf("%s %d/%d", in.Name, in.Queued, in.Capacity))
		}
	}
	for _, out := range c.Outboxes {
		if out.Sent > 0 {
			parts = append(parts, fmt.Sprintf("%s sent %d", out.Name, out.Sent))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func dotEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "{", `\{`, "}", `\}`, "|", `\|`, "<", `\<`, ">", `\>`).Replace(s)
}

func mermaidEscape(s string) string {
	return strings.NewReplacer(`"`, "#quot;").Replace(s)
}
