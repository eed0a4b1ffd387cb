package axon_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

func TestInspect(t *testing.T) {
	ctx := axontest.Context(t)
	release := make(chan struct{})
	src := axon.New("Source", func(ctx context.Context, c *axon.Component) error {
		for i := range 3 {
			if err := c.Send(ctx, "outbox", i); err != nil {
				return err
			}
		}
		<-release
		return nil
	})
	sink := axon.New("Sink", func(ctx context.Context, c *axon.Component) error {
		<-release
		return nil
	})
	root := axon.New("Root", nil, axon.WithChildren(src, sink))
	if err := axon.Link(src, "outbox", sink, "inbox"); err != nil {
		t.Fatal(err)
	}
	h := axon.Start(ctx, root)
	for sink.Inbox("inbox").Len() < 3 {
		select {
		case <-ctx.Done():
			t.Fatal("messages never queued")
		default:
		}
	}
	snap := axon.Inspect(root)
	close(release)
	if err := h.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(snap.Components) != 3 {
		t.Fatalf("%d components, want 3", len(snap.Components))
	}
	var sinkInfo, srcInfo axon.ComponentInfo
	for _, c := range snap.Components {
		switch c.Ref.Name {
		case "Sink":
			sinkInfo = c
		case "Source":
			srcInfo = c
		}
		if c.State != "running" {
			t.Errorf("%s state %q", c.Ref, c.State)
		}
	}
	if sinkInfo.Parent == nil || *sinkInfo.Parent != root.Ref() {
		t.Errorf("sink parent %v", sinkInfo.Parent)
	}
	if sinkInfo.Inboxes[0].Queued != 3 || sinkInfo.Inboxes[0].Capacity != axon.DefaultCapacity {
		t.Errorf("sink inbox %+v", sinkInfo.Inboxes[0])
	}
	if srcInfo.Outboxes[0].Sent != 3 || !strings.HasPrefix(srcInfo.Outboxes[0].Dest, "Sink#") {
		t.Errorf("source outbox %+v", srcInfo.Outboxes[0])
	}
	// Two links: Source -> Sink, and the root's signal to the Handle.
	want := axon.LinkInfo{From: src.Ref(), FromBox: "outbox", To: sink.Ref(), ToBox: "inbox"}
	if len(snap.Links) != 2 || !slices.Contains(snap.Links, want) {
		t.Fatalf("links %+v", snap.Links)
	}
	dot := snap.DOT()
	for _, want := range []string{"digraph", "subgraph cluster_", "Source#", fmt.Sprintf("inbox 3/%d", axon.DefaultCapacity), "outbox→inbox"} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %q:\n%s", want, dot)
		}
	}
	mm := snap.Mermaid()
	for _, want := range []string{"flowchart LR", "subgraph", "end", "-->|\"outbox→inbox\"|", "outbox sent 3"} {
		if !strings.Contains(mm, want) {
			t.Errorf("Mermaid lacks %q:\n%s", want, mm)
		}
	}
}

// TestInspectPart: a snapshot of part of a graph draws that part's
// components, and the components its links lead to are drawn as outside.
func TestInspectPart(t *testing.T) {
	outer := axon.New("Outer", nil)
	inner := axon.New("Inner", nil)
	a, b := axon.New("A", nil), axon.New("B", nil)
	for _, step := range []error{
		outer.AddChild(inner), inner.AddChild(a), inner.AddChild(b),
		axon.Link(a, "outbox", b, "inbox"),
		axon.Link(b, "outbox", inner, "outbox"),
		axon.Link(inner, "outbox", outer, "outbox"),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	snap := axon.Inspect(inner)
	mm, dot := snap.Mermaid(), snap.DOT()
	for _, want := range []string{"subgraph", "Inner#", "A#", "B#", "Outer#", "(outside)"} {
		if !strings.Contains(mm, want) {
			t.Errorf("Mermaid lacks %q:\n%s", want, mm)
		}
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %q:\n%s", want, dot)
		}
	}
	// Every node an edge mentions is declared: Inner, A and B are n0 to
	// n2, Outer outside is n3.
	for _, id := range []string{"n0", "n1", "n2", "n3"} {
		declared := regexp.MustCompile(`(?m)^\s*(subgraph )?` + id + `[\[( ]`)
		if !declared.MatchString(mm) {
			t.Errorf("%s is never declared:\n%s", id, mm)
		}
	}
	for _, e := range regexp.MustCompile(`(n\d+) -(-|\.-)>\|"[^"]*"\| (n\d+)`).FindAllStringSubmatch(mm, -1) {
		for _, id := range []string{e[1], e[3]} {
			if id > "n3" {
				t.Errorf("edge %q to undeclared %s:\n%s", e[0], id, mm)
			}
		}
	}
	if n := strings.Count(mm, "-->") + strings.Count(mm, "-.->"); n != len(snap.Links) {
		t.Errorf("%d edges, want %d:\n%s", n, len(snap.Links), mm)
	}
}

// TestDrawIsStable: the same graph is drawn the same way each time it is
// built, whatever its components' ids.
func TestDrawIsStable(t *testing.T) {
	build := func() axon.Snapshot {
		a, b := axon.New("A", nil), axon.New("B", nil)
		g := axon.New("G", nil, axon.WithChildren(a, b))
		if err := axon.Link(a, "outbox", b, "inbox"); err != nil {
			t.Fatal(err)
		}
		return axon.Inspect(g)
	}
	s1, s2 := build(), build()
	if s1.DOT() == s2.DOT() || s1.Mermaid() == s2.Mermaid() {
		t.Fatal("two graphs' default drawings are the same: they should differ in their ids")
	}
	step := axon.LabelBy(func(c axon.ComponentInfo) string { return c.Step })
	if d1, d2 := s1.DOT(step), s2.DOT(step); d1 != d2 {
		t.Errorf("DOT differs:\n%s\n%s", d1, d2)
	}
	if m1, m2 := s1.Mermaid(step), s2.Mermaid(step); m1 != m2 {
		t.Errorf("Mermaid differs:\n%s\n%s", m1, m2)
	}
}

// TestPathSteps: same-named siblings are told apart by "#2", "#3"...,
// labels count as names, and a parent naming by place names its
// unlabelled children so; Inspect and Path agree.
func TestPathSteps(t *testing.T) {
	root := axon.New("Root", nil)
	byPlace := axon.New("Line", nil)
	byPlace.NameChildrenByPlace()
	add := func(parent *axon.Component, label, name string) *axon.Component {
		t.Helper()
		k := axon.New(name, nil)
		if err := parent.AddNamedChild(label, k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	if err := root.AddChild(byPlace); err != nil {
		t.Fatal(err)
	}
	kids := []*axon.Component{
		add(root, "", "X"), add(root, "", "X"), add(root, "X", "Y"), add(root, "Z", "X"), add(root, "", "Z"),
		add(byPlace, "", "X"), add(byPlace, "X", "Y"), add(byPlace, "", "X"), add(byPlace, "W", "W"),
	}
	want := []string{
		"Root", "Root/Line",
		"Root/Line/1:X", "Root/Line/X#2", "Root/Line/3:X", "Root/Line/W",
		"Root/X", "Root/X#2", "Root/X#3", "Root/Z", "Root/Z#2",
	}
	var got []string
	for _, c := range axon.Inspect(root).Components {
		got = append(got, c.Path)
	}
	if !slices.Equal(got, want) {
		t.Errorf("paths\n%q, want\n%q", got, want)
	}
	for _, k := range kids {
		if p := k.Path(); !slices.Contains(want, p) {
			t.Errorf("%s.Path() = %q, not among %q", k, p, want)
		}
	}
}

// TestInspectManyChildren: a parent of 20,000 children, all of one name,
// is inspected in time linear in them, not quadratic.
func TestInspectManyChildren(t *testing.T) {
	const n = 20000
	root := axon.New("Root", nil)
	for range n {
		if err := root.AddChild(axon.New("Same", nil)); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	s := axon.Inspect(root)
	took := time.Since(start)
	if len(s.Components) != n+1 || s.Components[n].Path != "Root/Same#20000" {
		t.Fatalf("%d components, last %q", len(s.Components), s.Components[len(s.Components)-1].Path)
	}
	t.Logf("Inspect of %d children: %v", n, took)
	// Quadratic, this took over 10 s under -race; linear, well under 1 s.
	if took > 3*time.Second {
		t.Errorf("Inspect of %d children took %v", n, took)
	}
}
