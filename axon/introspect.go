package axon

import (
	"fmt"
	"maps"
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
	Path  string
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
	s.walk(root, root.pathLocked())
	return s
}

// walk adds c, whose path is path, and everything beneath it. Called with
// linkMu held.
func (s *Snapshot) walk(c *Component, path string) {
	ci := ComponentInfo{Ref: c.Ref(), Path: path}
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
		s.walk(kids[i], path+"/"+st)
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
	p := c.parent
	if p == nil {
		return c.name
	}
	p.mu.Lock()
	kids := p.children
	i := slices.Index(kids, c)
	var st string
	if i >= 0 {
		st = steps(kids[:i+1], p.byPlace)[i]
	}
	p.mu.Unlock()
	return p.pathLocked() + "/" + st
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

// nodeID is a DOT/Mermaid-safe identifier for a component.
func nodeID(r Ref) string { return "c" + strings.ReplaceAll(r.ID.String(), "-", "") }

// members is the set of components in the snapshot.
func (s Snapshot) members() map[Ref]bool {
	in := make(map[Ref]bool, len(s.Components))
	for _, c := range s.Components {
		in[c.Ref] = true
	}
	return in
}

// children groups the snapshot's components by parent id; "" holds the
// roots: components whose parent is not in the snapshot.
func (s Snapshot) children(in map[Ref]bool) map[string][]ComponentInfo {
	m := make(map[string][]ComponentInfo)
	for _, c := range s.Components {
		key := ""
		if c.Parent != nil && in[*c.Parent] {
			key = c.Parent.ID.String()
		}
		m[key] = append(m[key], c)
	}
	return m
}

// outside lists the components that links lead to or come from but that
// are not in the snapshot (a Handle, or the rest of a larger graph).
func (s Snapshot) outside(in map[Ref]bool) []Ref {
	in = maps.Clone(in)
	var refs []Ref
	for _, l := range s.Links {
		for _, r := range []Ref{l.From, l.To} {
			if !in[r] {
				in[r] = true
				refs = append(refs, r)
			}
		}
	}
	return refs
}

// DOT renders the snapshot in Graphviz's language: a component with
// children is a cluster, every other component a box listing its queues,
// every link an edge labelled with its boxes (dashed for passthrough).
func (s Snapshot) DOT() string {
	var b strings.Builder
	b.WriteString("digraph axon {\n  rankdir=LR;\n  node [shape=record, fontsize=10];\n  edge [fontsize=9];\n")
	in := s.members()
	kids := s.children(in)
	var emit func(c ComponentInfo, indent string)
	emit = func(c ComponentInfo, indent string) {
		sub := kids[c.Ref.ID.String()]
		label := dotEscape(c.Ref.String()) + `\n` + c.State + queueSummary(c)
		if len(sub) == 0 {
			fmt.Fprintf(&b, "%s%s [label=\"%s\"];\n", indent, nodeID(c.Ref), label)
			return
		}
		fmt.Fprintf(&b, "%ssubgraph cluster_%s {\n%s  label=\"%s\";\n", indent, nodeID(c.Ref), indent, label)
		fmt.Fprintf(&b, "%s  %s [label=\"%s\", shape=point];\n", indent, nodeID(c.Ref), dotEscape(c.Ref.Name))
		for _, k := range sub {
			emit(k, indent+"  ")
		}
		fmt.Fprintf(&b, "%s}\n", indent)
	}
	for _, r := range kids[""] {
		emit(r, "  ")
	}
	for _, r := range s.outside(in) {
		fmt.Fprintf(&b, "  %s [label=\"%s\\n(outside)\", style=dashed];\n", nodeID(r), dotEscape(r.String()))
	}
	for _, l := range s.Links {
		style := ""
		if l.Passthrough {
			style = ", style=dashed"
		}
		fmt.Fprintf(&b, "  %s -> %s [label=\"%s→%s\"%s];\n", nodeID(l.From), nodeID(l.To), dotEscape(l.FromBox), dotEscape(l.ToBox), style)
	}
	b.WriteString("}\n")
	return b.String()
}

// Mermaid renders the snapshot as a Mermaid flowchart: components with
// children become subgraphs, links become labelled arrows (dotted for
// passthrough).
func (s Snapshot) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	in := s.members()
	kids := s.children(in)
	var emit func(c ComponentInfo, indent string)
	emit = func(c ComponentInfo, indent string) {
		sub := kids[c.Ref.ID.String()]
		label := mermaidEscape(c.Ref.String() + " " + c.State + queueSummary(c))
		if len(sub) == 0 {
			fmt.Fprintf(&b, "%s%s[\"%s\"]\n", indent, nodeID(c.Ref), label)
			return
		}
		fmt.Fprintf(&b, "%ssubgraph %s [\"%s\"]\n", indent, nodeID(c.Ref), label)
		for _, k := range sub {
			emit(k, indent+"  ")
		}
		fmt.Fprintf(&b, "%send\n", indent)
	}
	for _, r := range kids[""] {
		emit(r, "  ")
	}
	for _, r := range s.outside(in) {
		fmt.Fprintf(&b, "  %s([\"%s (outside)\"])\n", nodeID(r), mermaidEscape(r.String()))
	}
	for _, l := range s.Links {
		arrow := "-->"
		if l.Passthrough {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s|\"%s→%s\"| %s\n", nodeID(l.From), arrow, mermaidEscape(l.FromBox), mermaidEscape(l.ToBox), nodeID(l.To))
	}
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
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "{", `\{`, "}", `\}`, "|", `\|`, "<", `\<`, ">", `\>`).Replace(s)
}

func mermaidEscape(s string) string {
	return strings.NewReplacer(`"`, "#quot;").Replace(s)
}
