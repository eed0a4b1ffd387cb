package axon_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

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
	// Every node an edge mentions is declared.
	for _, l := range snap.Links {
		for _, r := range []axon.Ref{l.From, l.To} {
			id := "c" + strings.ReplaceAll(r.ID.String(), "-", "")
			if strings.Count(mm, id) < 2 {
				t.Errorf("%s is on an edge but never declared:\n%s", r, mm)
			}
		}
	}
}
