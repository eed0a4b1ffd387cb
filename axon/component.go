package axon

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
)

// Node is anything that can be placed in a graph: a *Component, or a type
// that embeds one (and so gains its Core method).
type Node interface {
	// Core returns the component underneath.
	Core() *Component
}

// MainFunc is a component's main loop. It runs in its own goroutine once the
// component is started, receives from the component's inboxes, sends on its
// outboxes, and returns when the component is done: nil for a normal end,
// an error to report a failure (which shuts the graph down). It must return
// promptly once ctx ends.
type MainFunc func(ctx context.Context, c *Component) error

// Names and documentation of the four boxes every component has.
const (
	InboxName   = "inbox"
	ControlName = "control"
	OutboxName  = "outbox"
	SignalName  = "signal"
)

// ErrorsName is the name, by convention, of the outbox on which a
// component reports what went wrong without ending it (a message it could
// not take, a datagram it could not send), each an error. It is not one
// of the four boxes every component has: components that report declare
// it. Every package's ErrorsBox is this name.
const ErrorsName = "errors"

// Component is the unit of a graph: a readable name, a unique id, named
// inboxes and outboxes, optional children, and a main loop.
//
// Every component has four boxes to start with:
//
//	inbox   (in)  data to work on
//	control (in)  shutdown messages: ProducerFinished, ShutdownMicroprocess
//	outbox  (out) results
//	signal  (out) shutdown messages passed on when the component finishes
//
// A component's boxes may be added and removed while it runs (Kamaelia's
// AdaptiveCommsComponent): see AddInbox, AddOutbox, RemoveInbox and
// RemoveOutbox.
type Component struct {
	name     string
	id       uuid.UUID
	main     MainFunc
	extra    atomic.Pointer[boxSet] // boxes beyond the four defaults; nil if none
	ended    atomic.Bool            // set when the main loop returns (or all is done); read on every send
	passedOn atomic.Bool            // a shutdown notice has gone out on signal
	scopes   atomic.Int32           // scopes open on it (Serve, Batch): see flushFor
	halted   atomic.Bool            // a ShutdownMicroprocess has interrupted it

	mu       sync.Mutex // guards what follows
	state    runPhase
	broke    bool       // its main loop failed (or its options were wrong)
	byPlace  bool       // its children's path steps are their places (NameChildrenByPlace)
	pending  int32      // main (if any, until it returns) + unfinished children
	liveKids int32      // unfinished children
	parent   *Component // also read under linkMu; written holding both
	children []*Component
	ctx      compCtx // the main loop's context
	run      *runState
	rare     *rareState    // what few components need; made on demand
	kidsIdle chan struct{} // closed while liveKids == 0

	// The four default boxes live inside the component: one allocation.
	// defIn starts on a cache line of its own (TestInboxLayout), so that
	// the fields its senders and its reader write every batch (st,
	// spill) share one line with what senders read (ch, capa) and with
	// nothing else: with it 16 bytes off, BenchmarkPipeline10's batched
	// rate fell by a third. Add fields after the boxes.
	defIn, defCtl  Inbox
	defOut, defSig Outbox

	label string // the name its parent gives it (AddNamedChild); guarded by linkMu
}

// rareState is what few components need: kept out of Component, which
// every idle component pays for in full.
type rareState struct {
	done     chan struct{} // closed when the component has ended; made on first use
	stopMsg  any           // the ShutdownMicroprocess that interrupted the component
	buildErr error         // a mistake in the options given to New, reported when started
	tend     *Tending      // set by a supervisor that restarts the main loop in place
	gone     uint64        // messages taken from inboxes since removed; guarded by linkMu
}

// rareLocked returns c.rare, making it. Called with c.mu held.
func (c *Component) rareLocked() *rareState {
	if c.rare == nil {
		c.rare = &rareState{}
	}
	return c.rare
}

type runPhase uint8

const (
	phaseBuilt runPhase = iota
	phaseRunning
	phaseDone
)

// boxSet holds the boxes a component has beyond the four defaults. It is
// replaced, never changed, so senders and receivers read it without locks.
type boxSet struct {
	ins  []*Inbox
	outs []*Outbox
}

// Descriptions shared by every component's default boxes.
var (
	inboxMeta   = &boxMeta{name: InboxName, doc: "data to work on"}
	controlMeta = &boxMeta{name: ControlName, doc: "shutdown messages: ProducerFinished, ShutdownMicroprocess", control: true}
	outboxMeta  = &boxMeta{name: OutboxName, doc: "results"}
	signalMeta  = &boxMeta{name: SignalName, doc: "shutdown messages, passed on when the component finishes"}
)

// find returns the inbox or outbox called name, or two nils.
func (c *Component) find(name string) (*Inbox, *Outbox) {
	switch name {
	case InboxName:
		return &c.defIn, nil
	case ControlName:
		return &c.defCtl, nil
	case OutboxName:
		return nil, &c.defOut
	case SignalName:
		return nil, &c.defSig
	}
	if s := c.extra.Load(); s != nil {
		for _, b := range s.ins {
			if b.name == name {
				return b, nil
			}
		}
		for _, b := range s.outs {
			if b.name == name {
				return nil, b
			}
		}
	}
	return nil, nil
}

// allBoxes lists every box, defaults first.
func (c *Component) allBoxes() (ins []*Inbox, outs []*Outbox) {
	ins, outs = []*Inbox{&c.defIn, &c.defCtl}, []*Outbox{&c.defOut, &c.defSig}
	if s := c.extra.Load(); s != nil {
		ins, outs = append(ins, s.ins...), append(outs, s.outs...)
	}
	return ins, outs
}

// addBoxes publishes a new set of extra boxes with in and out added.
// Called during New or with linkMu held.
func (c *Component) addBoxes(in *Inbox, out *Outbox) {
	var next boxSet
	if s := c.extra.Load(); s != nil {
		next = boxSet{ins: slices.Clip(s.ins), outs: slices.Clip(s.outs)}
	}
	if in != nil {
		next.ins = append(next.ins, in)
	}
	if out != nil {
		next.outs = append(next.outs, out)
	}
	c.extra.Store(&next)
}

// Option configures a component made by New.
type Option func(*Component)

// BoxOption configures one box declared with WithInbox, WithOutbox,
// AddInbox or AddOutbox.
type BoxOption func(*boxSpec)

type boxSpec struct {
	capacity int
	typ      reflect.Type
	passOnly bool
}

// newSpec applies opts to the box description spec.
func newSpec(spec boxSpec, opts []BoxOption) boxSpec {
	for _, o := range opts {
		o(&spec)
	}
	return spec
}

// Capacity sets an inbox's capacity (how many messages it holds before
// senders wait). It must be at least 1; it has no effect on an outbox.
func Capacity(n int) BoxOption {
	return func(s *boxSpec) { s.capacity = max(n, 1) }
}

// PassthroughOnly declares an inbox that holds no messages of its own: it
// exists to pass what arrives to a child's inbox (Link parent inbox ->
// child inbox). While it passes through to no child, senders linked to it
// wait exactly as if they were not linked, so nothing can be stranded in a
// box that no main loop reads. Pipeline and Graphline declare their boxes
// this way. Receiving from such a box (In) is a programming error.
func PassthroughOnly() BoxOption {
	return func(s *boxSpec) { s.passOnly = true }
}

// Carries declares the Go type a box carries. Link refuses to join two
// boxes whose declared types do not fit, naming both ends and both types.
// Messages are not checked as they cross: the declaration documents the
// box and catches wiring mistakes when the graph is built (ServeAs checks
// each message on the receiving side). Carries[any] declares nothing, as
// a box declared with no type carries any message.
func Carries[T any]() BoxOption {
	t := reflect.TypeFor[T]()
	if t == reflect.TypeFor[any]() {
		t = nil
	}
	return func(s *boxSpec) { s.typ = t }
}

// WithInbox declares an inbox. Declaring one of the default names changes
// that box's documentation and options. Inbox and outbox names share one
// namespace: reusing an outbox's name is an error reported when the
// component runs.
func WithInbox(name, doc string, opts ...BoxOption) Option {
	return func(c *Component) {
		in, out := c.find(name)
		if out != nil {
			c.FailOnStart(&BoxError{Component: c.String(), Box: name, Op: "declare inbox", Err: fmt.Errorf("%w: it is an outbox", ErrBoxExists)})
			return
		}
		start := boxSpec{capacity: DefaultCapacity}
		if in != nil {
			start = boxSpec{capacity: int(in.capa), typ: in.typ} // options given override these
		}
		spec := newSpec(start, opts)
		if in == nil {
			c.addBoxes(c.newInbox(name, doc, spec), nil)
			return
		}
		in.boxMeta = &boxMeta{name: name, doc: doc, typ: spec.typ, control: in.control}
		switch {
		case spec.passOnly:
			in.ch, in.capa = nil, 0
		case spec.capacity != int(in.capa):
			in.ch = make(chan any, spec.capacity)
			in.capa = int32(spec.capacity)
		}
	}
}

// WithOutbox declares an outbox. Declaring one of the default names changes
// that box's documentation and type.
func WithOutbox(name, doc string, opts ...BoxOption) Option {
	return func(c *Component) {
		in, out := c.find(name)
		if in != nil {
			c.FailOnStart(&BoxError{Component: c.String(), Box: name, Op: "declare outbox", Err: fmt.Errorf("%w: it is an inbox", ErrBoxExists)})
			return
		}
		spec := newSpec(boxSpec{}, opts)
		meta := &boxMeta{name: name, doc: doc, typ: spec.typ}
		if out == nil {
			c.addBoxes(nil, &Outbox{owner: c, boxMeta: meta})
			return
		}
		out.boxMeta = meta
	}
}

// WithChildren makes the given nodes children of the component being built:
// they start and stop with it, and it does not end before they have. A
// child that cannot be added (it belongs to another graph, say) is
// reported when the component runs.
func WithChildren(children ...Node) Option {
	return func(c *Component) {
		for _, n := range children {
			if err := c.AddChild(n); err != nil {
				c.FailOnStart(err)
			}
		}
	}
}

func (c *Component) newInbox(name, doc string, spec boxSpec) *Inbox {
	b := &Inbox{owner: c, boxMeta: &boxMeta{name: name, doc: doc, typ: spec.typ}}
	if !spec.passOnly {
		b.ch = make(chan any, spec.capacity)
		b.capa = int32(spec.capacity)
	}
	return b
}

// New makes a component called name whose main loop is main (nil for a
// component that only contains children, such as a Pipeline). It has the
// four default boxes plus any the options declare, and a fresh id.
func New(name string, main MainFunc, opts ...Option) *Component {
	c := &Component{name: name, id: uuid.New(), main: main}
	c.ctx.c = c
	c.defIn = Inbox{owner: c, boxMeta: inboxMeta, ch: make(chan any, DefaultCapacity), capa: DefaultCapacity}
	c.defCtl = Inbox{owner: c, boxMeta: controlMeta, ch: make(chan any, DefaultControlCapacity), capa: DefaultControlCapacity}
	// Shutdown messages never cross in batches: control is always read
	// one message at a time.
	c.defCtl.st.Store(stRaw)
	c.defOut = Outbox{owner: c, boxMeta: outboxMeta}
	c.defSig = Outbox{owner: c, boxMeta: signalMeta}
	for _, o := range opts {
		o(c)
	}
	return c
}

// FailOnStart records a mistake found while building c, for constructors
// that return a component rather than an error (as Pipeline does, so that
// it can be written inline). Starting c then reports err, naming c, and
// runs nothing of it. Several calls add up.
func (c *Component) FailOnStart(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rareLocked()
	r.buildErr = errors.Join(r.buildErr, err)
}

// Invalid returns a component that runs nothing and, when started,
// reports err naming itself: what a constructor that returns a component
// rather than an error returns when its arguments are wrong.
func Invalid(name string, err error) *Component {
	c := New(name, nil)
	c.FailOnStart(err)
	return c
}

// Core returns c itself, so that *Component is a Node.
func (c *Component) Core() *Component { return c }

// Name returns the component's readable name.
func (c *Component) Name() string { return c.name }

// ID returns the component's unique id.
func (c *Component) ID() uuid.UUID { return c.id }

// Ref returns the component's name and id, as carried by shutdown messages.
func (c *Component) Ref() Ref { return Ref{Name: c.name, ID: c.id} }

// String returns the name and the first eight hex digits of the id, as
// used in every error message: "Doubler#3f2a1c7e".
func (c *Component) String() string { return c.Ref().String() }

// Ref identifies a component by readable name and id.
type Ref struct {
	Name string
	ID   uuid.UUID
}

// String gives the name and the first eight hex digits of the id:
// "Doubler#3f2a1c7e".
func (r Ref) String() string {
	// The first four bytes in hex are the uuid's first eight digits,
	// without formatting all of it: errors name components often.
	var short [8]byte
	hex.Encode(short[:], r.ID[:4])
	return r.Name + "#" + string(short[:])
}

// Inbox returns the named inbox, or nil if the component has none by that
// name.
func (c *Component) Inbox(name string) *Inbox {
	b, _ := c.find(name)
	return b
}

// Outbox returns the named outbox, or nil if the component has none by
// that name.
func (c *Component) Outbox(name string) *Outbox {
	_, b := c.find(name)
	return b
}

// In returns the channel of the named inbox, for use in a select. It panics
// if there is no such inbox: a programming error, reported with the
// component's name like any panic in a main loop.
func (c *Component) In(name string) <-chan any {
	return c.receivable(name).C()
}

// receivable returns the named inbox for a main loop to receive from,
// panicking if there is none or it holds nothing of its own.
func (c *Component) receivable(name string) *Inbox {
	b := c.Inbox(name)
	switch {
	case b == nil:
		panic(&BoxError{Component: c.String(), Box: name, Op: "receive", Err: ErrNoSuchBox})
	case b.ch == nil:
		panic(&BoxError{Component: c.String(), Box: name, Op: "receive", Err: fmt.Errorf("%w: the box is passthrough-only", ErrBadLink)})
	}
	return b
}

// Out returns the named outbox. It panics if there is none, like In.
func (c *Component) Out(name string) *Outbox {
	if b := c.Outbox(name); b != nil {
		return b
	}
	panic(&BoxError{Component: c.String(), Box: name, Op: "send", Err: ErrNoSuchBox})
}

// Send sends msg on the named outbox, waiting as Outbox.Send does.
func (c *Component) Send(ctx context.Context, box string, msg any) error {
	b := c.Outbox(box)
	if b == nil {
		return &BoxError{Component: c.String(), Box: box, Op: "send", Err: ErrNoSuchBox}
	}
	return b.Send(ctx, msg)
}

// TrySend sends msg on the named outbox only if that can be done at once,
// as Outbox.TrySend does.
func (c *Component) TrySend(box string, msg any) error {
	b := c.Outbox(box)
	if b == nil {
		return &BoxError{Component: c.String(), Box: box, Op: "send", Err: ErrNoSuchBox}
	}
	return b.TrySend(msg)
}

// Inboxes returns the component's inboxes, defaults first.
func (c *Component) Inboxes() []*Inbox {
	ins, _ := c.allBoxes()
	return ins
}

// Outboxes returns the component's outboxes, defaults first.
func (c *Component) Outboxes() []*Outbox {
	_, outs := c.allBoxes()
	return outs
}

// AddInbox adds an inbox while the component is built or running.
func (c *Component) AddInbox(name, doc string, opts ...BoxOption) (*Inbox, error) {
	spec := newSpec(boxSpec{capacity: DefaultCapacity}, opts)
	linkMu.Lock()
	defer linkMu.Unlock()
	if in, out := c.find(name); in != nil || out != nil {
		return nil, &BoxError{Component: c.String(), Box: name, Op: "add", Err: ErrBoxExists}
	}
	b := c.newInbox(name, doc, spec)
	c.addBoxes(b, nil)
	return b, nil
}

// AddOutbox adds an outbox while the component is built or running.
func (c *Component) AddOutbox(name, doc string, opts ...BoxOption) (*Outbox, error) {
	spec := newSpec(boxSpec{}, opts)
	linkMu.Lock()
	defer linkMu.Unlock()
	if in, out := c.find(name); in != nil || out != nil {
		return nil, &BoxError{Component: c.String(), Box: name, Op: "add", Err: ErrBoxExists}
	}
	b := &Outbox{owner: c, boxMeta: &boxMeta{name: name, doc: doc, typ: spec.typ}}
	c.addBoxes(nil, b)
	return b, nil
}

// RemoveInbox removes an inbox and every link into or out of it, and
// returns whatever was still queued in it so that nothing is lost unseen:
// a message a send reported delivered into the box is either returned here
// or was received before. A send that finds the box removed waits for its
// outbox to be linked again, as on any unlinked outbox. The default boxes
// cannot be removed.
func (c *Component) RemoveInbox(name string) (leftover []any, err error) {
	linkMu.Lock()
	b, _ := c.find(name)
	switch {
	case b == nil:
		linkMu.Unlock()
		return nil, &BoxError{Component: c.String(), Box: name, Op: "remove", Err: ErrNoSuchBox}
	case b == &c.defIn || b == &c.defCtl:
		linkMu.Unlock()
		return nil, &BoxError{Component: c.String(), Box: name, Op: "remove", Err: fmt.Errorf("%w: default boxes stay", ErrBoxInUse)}
	}
	// Closed first: from here on a sender that finds the box puts nothing
	// in it, and one already putting a message in is counted in inflight.
	b.st.Or(stClosed)
	unlinkAll([]*Inbox{b}, nil)
	set := c.extra.Load()
	c.extra.Store(&boxSet{ins: slices.DeleteFunc(slices.Clone(set.ins), func(x *Inbox) bool { return x == b }), outs: set.outs})
	linkMu.Unlock()
	if b.ch == nil {
		return nil, nil
	}
	// Wait for the senders caught in the middle, taking what they put in
	// meanwhile: a sender blocked on the full box finishes once there is
	// room, or gives up when the unlink wakes it.
	for {
		leftover = append(leftover, b.drainAll()...)
		if b.inflight.Load() == 0 {
			leftover = append(leftover, b.drainAll()...)
			break
		}
		runtime.Gosched()
	}
	// What the box let through stays in the component's count of
	// messages handled, which must not go down.
	linkMu.Lock()
	c.mu.Lock()
	c.rareLocked().gone += b.takenFrom(b.arrived())
	c.mu.Unlock()
	linkMu.Unlock()
	return leftover, nil
}

// RemoveOutbox removes an outbox and every link into or out of it. A send
// blocked on it keeps waiting until its context ends.
func (c *Component) RemoveOutbox(name string) error {
	linkMu.Lock()
	defer linkMu.Unlock()
	_, b := c.find(name)
	switch {
	case b == nil:
		return &BoxError{Component: c.String(), Box: name, Op: "remove", Err: ErrNoSuchBox}
	case b == &c.defOut || b == &c.defSig:
		return &BoxError{Component: c.String(), Box: name, Op: "remove", Err: fmt.Errorf("%w: default boxes stay", ErrBoxInUse)}
	}
	unlinkAll(nil, []*Outbox{b})
	set := c.extra.Load()
	c.extra.Store(&boxSet{ins: set.ins, outs: slices.DeleteFunc(slices.Clone(set.outs), func(x *Outbox) bool { return x == b })})
	return nil
}

// Parent returns the component c is a child of, or nil.
func (c *Component) Parent() *Component {
	linkMu.Lock()
	defer linkMu.Unlock()
	return c.parent
}

// Children returns c's children, in the order they were added.
func (c *Component) Children() []*Component {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.children)
}
