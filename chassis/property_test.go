package chassis_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
)

var propertySeed = flag.Uint64("chassis.seed", 0, "seed for the property tests (0: from the clock)")

// propertyRand returns the random source for one property test: seeded
// from -chassis.seed, or from the clock, and logged so that a failing run
// can be repeated. stream keeps the tests' sequences apart.
func propertyRand(t *testing.T, stream uint64) *rand.Rand {
	t.Helper()
	seed := *propertySeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -args -chassis.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, stream))
}

// The property test pushes propertyMessages messages in all, spread over
// propertyGraphs random graphs. Messages are pointers into one []int, so
// sending one allocates nothing and the run measures the graph, not the
// garbage collector: 10^6 messages run under -race on two cores in well
// under the package's time budget, so `make test` (go test -race) uses the
// full count too.
const (
	propertyMessages = 1_000_000
	propertyGraphs   = 16
)

// builder makes random segments: nodes whose "inbox" leads, through
// pass-through stages, to their "outbox", and whose "control" leads the
// same way to their "signal".
type builder struct {
	r      *rand.Rand
	budget int        // stages still allowed in this graph
	links  []linkSpec // links of hand-built containers, made later in random order
	shape  strings.Builder
	stages int
}

type linkSpec struct {
	from    axon.Node
	fromBox string
	to      axon.Node
	toBox   string
}

func (b *builder) stage() axon.Node {
	b.budget--
	b.stages++
	c := 1 + b.r.IntN(64)
	fmt.Fprintf(&b.shape, "s%d", c)
	return axontest.PassThrough(fmt.Sprint("Stage", b.stages), c)
}

// segment returns a random segment at most depth containers deep: a
// stage, or a Pipeline, Graphline, hand-wired container, Seq or Carousel
// of smaller segments.
func (b *builder) segment(depth int) axon.Node {
	if depth == 0 || b.budget <= 1 {
		return b.stage()
	}
	kind := b.r.IntN(6)
	if kind == 5 {
		return b.stage()
	}
	n := 1 + b.r.IntN(4)
	b.shape.WriteString([...]string{"P(", "G(", "M(", "S(", "C("}[kind])
	kids := make([]axon.Node, 0, n)
	for i := range n {
		if i > 0 && (b.budget <= 0 || kind == 4) {
			break // a Carousel holds one child
		}
		if i > 0 {
			b.shape.WriteString(" ")
		}
		kids = append(kids, b.segment(depth-1))
	}
	b.shape.WriteString(")")
	switch kind {
	case 0:
		return chassis.Pipeline(kids...)
	case 1:
		return b.graphline(kids)
	case 2:
		return b.manual(kids)
	case 3:
		// The first child carries all the data; on ProducerFinished it
		// drains and ends, and each later one ends as it starts.
		return chassis.Seq(kids...)
	default:
		return b.carousel(kids[0])
	}
}

// carousel wraps seg in a Carousel whose only "next" comes from a sibling
// as the graph starts, in a Graphline that makes the pair a segment.
// Messages that reach the Carousel before its child exists wait for it.
func (b *builder) carousel(seg axon.Node) axon.Node {
	var made atomic.Bool
	car := chassis.Carousel(func(any) axon.Node {
		if made.Swap(true) {
			return nil // a second "next" would be a bug in this test
		}
		return seg
	})
	// In a Seq, a later child gets ProducerFinished as it starts: the
	// Carousel may end before it reads "next", and that is no error.
	next := axon.New("Next", func(ctx context.Context, c *axon.Component) error {
		if err := c.Send(ctx, axon.OutboxName, "go"); err != nil && !errors.Is(err, axon.ErrReceiverDone) {
			return err
		}
		return nil
	})
	return chassis.Graphline(
		chassis.Nodes{"CAR": car, "NEXT": next},
		chassis.Links{
			{chassis.Self, "inbox"}:   {"CAR", "inbox"},
			{chassis.Self, "control"}: {"CAR", "control"},
			{"CAR", "outbox"}:         {chassis.Self, "outbox"},
			{"CAR", "signal"}:         {chassis.Self, "signal"},
			{"NEXT", "outbox"}:        {"CAR", "next"},
		})
}

// graphline chains kids by a Links table. The Graphline makes its links
// in an order of its own whatever the map's order; which of its two ways
// of handling control is used is random.
func (b *builder) graphline(kids []axon.Node) axon.Node {
	nodes := chassis.Nodes{}
	links := chassis.Links{}
	name := func(i int) string { return fmt.Sprint("n", i) }
	for i, k := range kids {
		nodes[name(i)] = k
		if i > 0 {
			links[chassis.Box{name(i - 1), "outbox"}] = chassis.Box{name(i), "inbox"}
			links[chassis.Box{name(i - 1), "signal"}] = chassis.Box{name(i), "control"}
		}
	}
	last := name(len(kids) - 1)
	links[chassis.Box{chassis.Self, "inbox"}] = chassis.Box{name(0), "inbox"}
	links[chassis.Box{last, "outbox"}] = chassis.Box{chassis.Self, "outbox"}
	links[chassis.Box{last, "signal"}] = chassis.Box{chassis.Self, "signal"}
	if b.r.IntN(2) == 0 {
		// Otherwise the Graphline hands its control to n0 itself, the
		// only child whose control no link feeds.
		links[chassis.Box{chassis.Self, "control"}] = chassis.Box{name(0), "control"}
	}
	return chassis.Graphline(nodes, links)
}

// manual is a container wired by hand with axon.Link; its links are made
// after the whole graph is built, shuffled together with every other hand
// made link, so passthroughs are joined in every order.
func (b *builder) manual(kids []axon.Node) axon.Node {
	m := axon.New("Manual", nil, axon.WithChildren(kids...))
	first, last := kids[0], kids[len(kids)-1]
	b.links = append(b.links,
		linkSpec{m, "inbox", first, "inbox"},
		linkSpec{m, "control", first, "control"},
		linkSpec{last, "outbox", m, "outbox"},
		linkSpec{last, "signal", m, "signal"})
	for i := 0; i+1 < len(kids); i++ {
		b.links = append(b.links,
			linkSpec{kids[i], "outbox", kids[i+1], "inbox"},
			linkSpec{kids[i], "signal", kids[i+1], "control"})
	}
	return m
}

// seqSource sends &vals[0], &vals[1], ... and then ProducerFinished at
// once, so the last messages are still in flight when it arrives. It
// sends in bursts of random length (up to 3 × axon.DefaultCapacity), each
// in one Batch, so that a batching graph gets batches of every size.
func seqSource(vals []int, r *rand.Rand) *axon.Component {
	return axon.New("Source", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		for i := 0; i < len(vals); {
			end := min(len(vals), i+1+r.IntN(3*axon.DefaultCapacity))
			if err := c.Batch(ctx, func(ctx context.Context) error {
				for ; i < end; i++ {
					if err := out.Send(ctx, &vals[i]); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return c.Finish(ctx)
	})
}

// modes are the two ways a graph can run: messages crossing in batches
// (the default) and one at a time.
var modes = []struct {
	name string
	opts []axon.StartOption
}{
	{"batched", nil},
	{"unbatched", []axon.StartOption{axon.Unbatched()}},
}

// seqSink checks that it receives &vals[0], &vals[1], ... each once, in
// order, and records how many arrived. It calls at(k) after the k-th.
type seqSink struct {
	got  atomic.Int64
	bad  atomic.Pointer[string]
	at   func(k int64)
	comp *axon.Component
}

func newSeqSink(vals []int, at func(int64)) *seqSink {
	s := &seqSink{at: at}
	s.comp = axon.New("Sink", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(_ context.Context, m any) error {
			k := s.got.Load()
			p, ok := m.(*int)
			switch {
			case !ok:
				return fmt.Errorf("sink got %T", m)
			case k >= int64(len(vals)):
				return fmt.Errorf("sink got %d after all %d messages", *p, len(vals))
			case p != &vals[k]:
				return fmt.Errorf("sink got message %d where %d was due", *p, k)
			}
			s.got.Store(k + 1)
			if s.at != nil {
				s.at(k + 1)
			}
			return nil
		})
	}, axon.WithInbox(axon.InboxName, "the numbered messages", axon.Capacity(64)))
	return s
}

func TestPropertyRandomGraphs(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { propertyRandomGraphs(t, m.opts) })
	}
}

func propertyRandomGraphs(t *testing.T, opts []axon.StartOption) {
	r := propertyRand(t, 0x6b616d61656c6961)
	ctx := axontest.Context(t)
	per := propertyMessages / propertyGraphs
	vals := make([]int, per)
	for i := range vals {
		vals[i] = i
	}
	start := time.Now()
	hops := 0
	for g := range propertyGraphs {
		b := &builder{r: r, budget: 2 + r.IntN(14)}
		seg := b.segment(1 + r.IntN(4))
		r.Shuffle(len(b.links), func(i, j int) { b.links[i], b.links[j] = b.links[j], b.links[i] })
		for _, l := range b.links {
			if err := axon.Link(l.from, l.fromBox, l.to, l.toBox); err != nil {
				t.Fatalf("graph %d %s: %v", g, b.shape.String(), err)
			}
		}
		sink := newSeqSink(vals, nil)
		root := chassis.Pipeline(seqSource(vals, rand.New(rand.NewPCG(r.Uint64(), 1))), seg, sink.comp)
		if err := axon.Run(ctx, root, opts...); err != nil {
			t.Fatalf("graph %d %s: %v", g, b.shape.String(), err)
		}
		if n := sink.got.Load(); n != int64(per) {
			t.Fatalf("graph %d %s: sink got %d of %d messages", g, b.shape.String(), n, per)
		}
		t.Logf("graph %d: %d stages %s", g, b.stages, b.shape.String())
		hops += per * (b.stages + 1)
	}
	el := time.Since(start)
	t.Logf("%d messages, %d stage crossings in %v (%v each)", per*propertyGraphs, hops, el, el/time.Duration(hops))
}

// contactStage passes messages through like pass, and closes contact when
// it first hears anything, on inbox or control.
func contactStage(name string, capacity int, contact chan<- struct{}) *axon.Component {
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		forward := func(ctx context.Context, m any) error { return out.Send(ctx, m) }
		select {
		case m := <-c.In(axon.InboxName):
			close(contact)
			if err := forward(ctx, m); err != nil {
				return err
			}
		case m := <-c.In(axon.ControlName):
			close(contact)
			if stop, err := c.Control(ctx, m, forward); stop || err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
		return c.Serve(ctx, forward)
	}, axon.WithInbox(axon.InboxName, "messages to pass on", axon.Capacity(capacity)))
}

// TestPropertyRelinkWhileRunning replaces the middle stage of a running
// Pipeline(Source, Pipeline(S1, S2, S3), Sink) several times with a fresh
// equivalent, using only axon.Link, axon.Unlink, AddChild and RemoveChild,
// while messages are in flight in every stage; the sink still gets every
// message once, in order.
//
// A replacement goes:
//  1. start the fresh stage F in the inner Pipeline, its outbox unlinked
//     (so anything it passes on waits);
//  2. move S1's outbox and signal from the old stage O to F;
//  3. wait until F hears from S1: S1 sends one message at a time, so
//     everything it sent to O is now in O's inbox;
//  4. unlink O's signal and send O a ProducerFinished: it passes on all it
//     holds and ends, telling no one;
//  5. link F's outbox and signal to S3, and remove O.
//
// Step 3 needs S1 to send again after step 2. The source is therefore held
// at a random point a little ahead of the sink's count when a replacement
// starts, and let go once S1 has been moved, so that S1 is sure to have
// more to send; everything between the sink and that point is in flight
// while the links change.
func TestPropertyRelinkWhileRunning(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { propertyRelinkWhileRunning(t, m.opts) })
	}
}

func propertyRelinkWhileRunning(t *testing.T, opts []axon.StartOption) {
	r := propertyRand(t, 0x72656c696e6b)
	const n, relinks = 200_000, 12
	vals := make([]int, n)
	for i := range vals {
		vals[i] = i
	}
	// Where the sink's count starts each replacement, and where the
	// source waits for it.
	triggers, holds := make([]int64, relinks), make([]int, relinks)
	for k := range relinks {
		triggers[k] = int64((k + 1) * n / (relinks + 2))
		holds[k] = int(triggers[k]) + 1 + r.IntN(400)
	}
	gates := make([]chan struct{}, relinks)
	for k := range gates {
		gates[k] = make(chan struct{})
	}
	src := axon.New("Source", func(ctx context.Context, c *axon.Component) error {
		out, k := c.Out(axon.OutboxName), 0
		for i := range vals {
			if k < relinks && i == holds[k] {
				select {
				case <-gates[k]:
				case <-ctx.Done():
					return ctx.Err()
				}
				k++
			}
			if err := out.Send(ctx, &vals[i]); err != nil {
				return err
			}
		}
		return c.Finish(ctx)
	})
	reached := make(chan int64, relinks)
	var nextTrigger atomic.Int64
	sink := newSeqSink(vals, func(k int64) {
		if k == nextTrigger.Load() {
			reached <- k
		}
	})
	nextTrigger.Store(triggers[0])
	capN := func() int { return 1 + r.IntN(64) }
	s1, s3 := axontest.PassThrough("S1", capN()), axontest.PassThrough("S3", capN())
	old := axontest.PassThrough("S2", capN())
	inner := chassis.Pipeline(s1, old, s3)
	ctx := axontest.Context(t)
	h := axontest.Start(t, ctx, chassis.Pipeline(src, inner, sink.comp), opts...)
	stopper := axon.New("Stopper", nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for k := range relinks {
		select {
		case <-reached:
		case <-h.Done():
			t.Fatalf("replacement %d: the graph ended early: %v", k, h.Wait())
		case <-ctx.Done():
			t.Fatalf("replacement %d: the sink never reached %d (it has %d)", k, triggers[k], sink.got.Load())
		}
		if k+1 < relinks {
			nextTrigger.Store(triggers[k+1])
		}
		contact := make(chan struct{})
		fresh := contactStage(fmt.Sprint("S2.", k+1), capN(), contact)
		must(inner.AddChild(fresh))
		must(axon.Unlink(s1, axon.OutboxName))
		must(axon.Unlink(s1, axon.SignalName))
		must(axon.Link(s1, axon.OutboxName, fresh, axon.InboxName))
		must(axon.Link(s1, axon.SignalName, fresh, axon.ControlName))
		close(gates[k])
		select {
		case <-contact:
		case <-h.Done():
			t.Fatalf("replacement %d: the graph ended early: %v", k, h.Wait())
		case <-ctx.Done():
			t.Fatalf("replacement %d: the fresh stage never heard from S1", k)
		}
		must(axon.Unlink(old, axon.SignalName))
		must(axon.Link(stopper, axon.OutboxName, old, axon.ControlName))
		must(stopper.Send(ctx, axon.OutboxName, axon.ProducerFinished{From: stopper.Ref()}))
		select {
		case <-old.Done():
		case <-h.Done():
			t.Fatalf("replacement %d: the graph ended early: %v", k, h.Wait())
		case <-ctx.Done():
			t.Fatalf("replacement %d: the old stage did not finish", k)
		}
		must(axon.Link(fresh, axon.OutboxName, s3, axon.InboxName))
		must(axon.Link(fresh, axon.SignalName, s3, axon.ControlName))
		must(inner.RemoveChild(old))
		old = fresh
	}
	axontest.Wait(t, h)
	if got := sink.got.Load(); got != n {
		t.Fatalf("sink got %d of %d messages", got, n)
	}
	if len(inner.Children()) != 3 {
		t.Fatalf("inner Pipeline has %d children, want 3", len(inner.Children()))
	}
}
