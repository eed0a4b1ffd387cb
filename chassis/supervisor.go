package chassis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Names of the boxes a supervisor adds to those of its children.
const (
	// SupervisionBox carries the supervisor's Events.
	SupervisionBox = "supervision"
	// ErrorsBox carries the messages a supervisor drops (*DroppedError),
	// and what a single child (Supervise) reports on its own "errors".
	ErrorsBox = "errors"
)

// Errors a supervisor reports, each wrapped with the names involved.
var (
	// ErrGaveUp is wrapped by the error a supervisor ends with when its
	// children failed more often than its restart intensity allows. The
	// same error wraps the last child's failure too.
	ErrGaveUp = errors.New("supervisor gave up: restart intensity exceeded")
	// ErrDropped is wrapped by every *DroppedError.
	ErrDropped = errors.New("message dropped by supervisor")
	// ErrPoison is wrapped by the *DroppedError of a message that failed
	// again when it was retried.
	ErrPoison = errors.New("poison message: failed again on retry")
	// ErrStopTimeout is wrapped by the error a supervisor ends with when a
	// child it stopped did not end within the shutdown timeout.
	ErrStopTimeout = errors.New("child did not stop within the shutdown timeout")
)

// Restart says when a supervised child is started again after its main
// loop ends: Erlang/OTP's restart types.
type Restart uint8

const (
	// Permanent children are always started again, whether they failed or
	// returned by themselves, except after passing on a shutdown notice:
	// a child that has finished its stream has finished.
	Permanent Restart = iota
	// Transient children are started again only after a failure.
	Transient
	// Temporary children are never started again.
	Temporary
)

// InHand says what becomes of the message a child's handler had in hand
// when it failed. Either way it is never lost unseen.
type InHand uint8

const (
	// Retry hands it to the next instance first. If that instance fails on
	// it too, it is a poison message: dropped, reported once on "errors"
	// (wrapping ErrPoison) and the stream goes on.
	Retry InHand = iota
	// Drop reports it on "errors" at once, with the error, and the next
	// instance goes on with the message after it.
	Drop
)

// Strategy says which children a supervisor restarts when one fails:
// Erlang/OTP's restart strategies.
type Strategy uint8

const (
	// OneForOne restarts the failed child only.
	OneForOne Strategy = iota
	// OneForAll stops every other running child (in reverse order) and
	// starts them all again, in order.
	OneForAll
	// RestForOne stops the children started after the failed one (in
	// reverse order) and starts it and them again, in order.
	RestForOne
)

func (s Strategy) String() string {
	return [...]string{"one_for_one", "one_for_all", "rest_for_one"}[s]
}

// Child describes one supervised child: Erlang/OTP's child specification.
type Child struct {
	// Name names the child in a Supervisor's Links and in events. It
	// defaults to the name of the component Make returns.
	Name string
	// Make returns a fresh instance each time the child starts: a
	// component with a main loop and no children, in no graph. Its main
	// loop runs against the child's boxes, which outlive it (so it must
	// use the *axon.Component it is given, as components do).
	Make func() axon.Node
	// Restart is the child's restart type; Permanent if not set.
	Restart Restart
	// InHand is what becomes of the message in hand when it fails; Retry
	// if not set.
	InHand InHand
}

// SupervisorOption configures a supervisor.
type SupervisorOption func(*supConfig)

type supConfig struct {
	strategy        Strategy
	intensity       int
	period          time.Duration
	backoff, maxOff time.Duration
	shutdown        time.Duration
	name            string
}

// Default limits, as Erlang/OTP's supervisor has them, and the backoff
// between restarts.
const (
	DefaultIntensity       = 1
	DefaultPeriod          = 5 * time.Second
	DefaultBackoff         = 10 * time.Millisecond
	DefaultMaxBackoff      = time.Second
	DefaultShutdownTimeout = 5 * time.Second
)

// WithStrategy sets which children are restarted when one fails;
// OneForOne by default.
func WithStrategy(s Strategy) SupervisorOption {
	return func(c *supConfig) { c.strategy = s }
}

// Intensity sets the restart intensity: more than n restarts within
// period and the supervisor stops its children and fails, with an error
// wrapping ErrGaveUp and the last failure. The default is OTP's, 1 in 5
// seconds. A period of 0 keeps no count: restarts are not limited.
func Intensity(n int, period time.Duration) SupervisorOption {
	return func(c *supConfig) { c.intensity, c.period = max(n, 0), period }
}

// Backoff sets the wait before a restart: first for the first restart
// within the intensity period, doubling with each further one up to most,
// each wait drawn at random between half and all of that (jitter, so that
// many supervisors do not restart in step). Zero restarts at once.
func Backoff(first, most time.Duration) SupervisorOption {
	return func(c *supConfig) { c.backoff, c.maxOff = max(first, 0), max(most, first, 0) }
}

// ShutdownTimeout bounds how long the supervisor waits for a child it
// stops to end: when restarting siblings, and when it is stopped itself.
func ShutdownTimeout(d time.Duration) SupervisorOption {
	return func(c *supConfig) { c.shutdown = d }
}

// SupervisorName names the supervisor component; "Supervisor" otherwise.
func SupervisorName(name string) SupervisorOption {
	return func(c *supConfig) { c.name = name }
}

// EventKind says what happened to a supervised child.
type EventKind uint8

const (
	// Started: the child's first instance was handed to its slot, which
	// runs it at once (unless the supervisor is stopped first).
	Started EventKind = iota
	// Failed: an instance returned an error or panicked (Err, and Stack
	// for a panic).
	Failed
	// Restarted: a new instance started, after Delay; Err says why (the
	// child's own failure, or a sibling's under OneForAll or RestForOne;
	// nil after a Permanent child returned by itself).
	Restarted
	// Ended: the child ended and will not be started again (it finished,
	// or its restart type says so).
	Ended
	// GaveUp: the restart intensity was exceeded; Err is the supervisor's
	// error, wrapping ErrGaveUp and the last failure.
	GaveUp
)

func (k EventKind) String() string {
	return [...]string{"started", "failed", "restarted", "ended", "gave up"}[k]
}

// Event reports what happened to a supervised child. Events go out on
// the supervisor's "supervision" outbox while it is linked, and the latest
// of each child is in Status.
type Event struct {
	Kind     EventKind
	Child    string        // the child's name
	Instance int           // which instance: 1 for the first, counting restarts
	Err      error         // Failed, GaveUp, and why a Restarted child was restarted
	Stack    []byte        // Failed by a panic: the stack
	Delay    time.Duration // Restarted: the backoff waited
	At       time.Time
}

func (e Event) String() string {
	s := fmt.Sprintf("%s %s (instance %d)", e.Child, e.Kind, e.Instance)
	if e.Delay > 0 {
		s += fmt.Sprintf(" after %s", e.Delay)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// DroppedError reports a message a supervisor dropped: one its child
// failed on under the Drop policy, a poison message under Retry, or one
// in hand when a child that will not be restarted failed. errors.Is sees
// ErrDropped (and ErrPoison for a poison message) and the child's error.
type DroppedError struct {
	Supervisor string // readable name and short id
	Child      string
	Msg        any   // the message
	Err        error // the child's failure on it
	Poison     bool  // it failed again when retried
}

func (e *DroppedError) Error() string {
	why := "dropped"
	if e.Poison {
		why = "dropped poison message"
	}
	return fmt.Sprintf("supervisor %s: child %s: %s %T: %v", e.Supervisor, e.Child, why, e.Msg, e.Err)
}

// Unwrap returns ErrDropped, ErrPoison for a poison message, and the
// child's error.
func (e *DroppedError) Unwrap() []error {
	if e.Poison {
		return []error{ErrDropped, ErrPoison, e.Err}
	}
	return []error{ErrDropped, e.Err}
}

// ChildStatus describes one supervised child, for introspection.
type ChildStatus struct {
	Name      string
	Ref       axon.Ref // the component that holds the child's boxes
	State     string   // "running", "restarting", "ended"
	Instances int      // instances started so far
	Failures  int
	Last      Event // the latest event
}

// SupervisorComponent is a supervisor as a component: what Supervisor and
// Supervise return. It embeds *axon.Component, so it is an axon.Node.
type SupervisorComponent struct {
	*axon.Component
	cfg  supConfig
	kids []*kid
	rep  *axon.Reporter

	exits   chan exit
	pending []exit      // exits read while waiting for another
	window  []time.Time // restarts within the intensity period

	mu sync.Mutex // guards each kid's status
}

// kid is one supervised child: the component that keeps its boxes (the
// slot), which runs one instance's main loop after another.
type kid struct {
	spec   Child
	slot   *axon.Component
	orders chan order  // the next instance to run
	exits  chan<- exit // the supervisor's
	first  axon.Node   // the instance made to learn the boxes, run first

	// The supervisor's own, touched by its goroutine only.
	retry   []any // messages in hand, for the next instance first
	ctl     any   // a shutdown message for the next instance, after retry
	running bool  // an instance runs
	ended   bool  // the slot has been told to end

	// The slot's goroutine sets cancel while an instance runs.
	cmu    sync.Mutex
	cancel context.CancelFunc

	status ChildStatus // guarded by SupervisorComponent.mu
}

// order tells a slot to run an instance, handing it retry first; a nil
// instance ends the slot, passing on ctl or, if it passed nothing on yet,
// a ProducerFinished with the reason, so that the stream after it ends.
type order struct {
	n      axon.Node
	retry  []any
	ctl    any   // a shutdown message to act on after retry
	reason error // why the slot ends, when n is nil
}

// exit is what a slot reports when an instance's main loop has returned.
type exit struct {
	k        *kid
	err      error
	stack    []byte
	msg      any  // in hand when it failed, if has
	has      bool // a message was in hand
	retried  bool // msg had been retried
	left     []any
	ctl      any  // a shutdown message it failed to act on
	passedOn bool // the instance passed a shutdown notice on
	stopped  bool // the slot itself was stopped
}

// Supervise runs one child under a supervisor, Erlang/OTP style, and
// gives the supervisor the child's boxes: each of the child's inboxes and
// outboxes is a box of the same name on the supervisor, passed through, so
// a supervised stage goes wherever the stage itself would:
//
//	chassis.Pipeline(src, chassis.Supervise(chassis.Child{Make: parser}), sink)
//
// Boxes, besides the child's own:
//
//	supervision (out) Event: the child started, failed, was restarted,
//	                  ended; the supervisor gave up. Sent, and waited
//	                  for, only while linked.
//	errors      (out) *DroppedError for each message dropped (see InHand),
//	                  sent and waited for while linked, logged otherwise;
//	                  merged with what the child reports on its own
//	                  "errors", if it has one (the box is then declared
//	                  as carrying error).
//
// "control" passes through to the child: ProducerFinished finishes it
// (and so the supervisor), ShutdownMicroprocess stops it at once, even
// while it waits to be restarted. See Supervisor for restarts.
func Supervise(child Child, opts ...SupervisorOption) *SupervisorComponent {
	cfg := newSupConfig(opts)
	k, err := newKid(child)
	if err != nil {
		return supFailed(cfg, err)
	}
	name := k.spec.Name
	var sopts []axon.Option
	links := Links{}
	for _, b := range k.slot.Inboxes() {
		sopts = append(sopts, axon.WithInbox(b.Name(), b.Doc(), axon.PassthroughOnly(), axon.CarriesType(b.Type())))
		links[Box{Self, b.Name()}] = Box{name, b.Name()}
	}
	hasErrors := false
	for _, b := range k.slot.Outboxes() {
		typ := b.Type()
		if b.Name() == ErrorsBox {
			hasErrors = true
			if typ != nil && !typ.Implements(errorType) {
				return supFailed(cfg, fmt.Errorf("supervise %s: %w: its %q box carries %s, not errors", name, axon.ErrTypeMismatch, ErrorsBox, typ))
			}
			typ = errorType
		}
		sopts = append(sopts, axon.WithOutbox(b.Name(), b.Doc(), axon.CarriesType(typ)))
		links[Box{name, b.Name()}] = Box{Self, b.Name()}
	}
	if !hasErrors {
		sopts = append(sopts, droppedBox)
	}
	return newSupervisor(cfg, []*kid{k}, links, graphPlan{opts: sopts, fedControl: map[string]bool{name: true}, signalFed: true})
}

// Supervisor runs children side by side under a supervisor, Erlang/OTP
// style, wired to each other and to the supervisor's own boxes by links
// as a Graphline's are (child names from Child.Name, Self for the
// supervisor). Children start in order; when a child's main loop fails
// (returns an error or panics) it is restarted as its Restart type and
// the Strategy say, after a backoff, and if more restarts than the
// intensity allows happen within its period, the supervisor stops every
// child and fails with an error wrapping ErrGaveUp and the child's last
// failure.
//
// Nothing waiting for a child is lost when it is restarted. The child's
// boxes belong to a component that outlives its instances (the one
// Status names): its links stay, what is queued in its inboxes stays, and
// each new instance made by Child.Make runs its main loop against them.
// The message the failed instance's handler had in hand (for main loops
// that use axon's Serve) is retried or dropped as Child.InHand says, and
// a message in hand of a sibling stopped by OneForAll or RestForOne is
// handed to its next instance first. A handler that had sent part of its
// output before failing sends it again when retried.
//
// Boxes:
//
//	inbox       (in)  nothing, unless a link passes it through to a child
//	control     (in)  handed to every child whose "control" no link
//	                  feeds: ProducerFinished finishes them, and the
//	                  supervisor ends when they all have;
//	                  ShutdownMicroprocess stops the supervisor and its
//	                  children at once, even during a backoff
//	outbox      (out) nothing, unless a link feeds it from a child
//	supervision (out) Event: each child started, failed, restarted or
//	                  ended, and the supervisor giving up. Sent, and
//	                  waited for, only while linked.
//	errors      (out) *DroppedError for each message dropped (see
//	                  InHand); sent, and waited for, while linked,
//	                  logged otherwise
//	signal      (out) ProducerFinished when every child has ended by
//	                  itself, unless a link feeds it from a child
//
// Options: WithStrategy, Intensity, Backoff, ShutdownTimeout,
// SupervisorName.
func Supervisor(children []Child, links Links, opts ...SupervisorOption) *SupervisorComponent {
	cfg := newSupConfig(opts)
	var kids []*kid
	var names []string
	for i, ch := range children {
		k, err := newKid(ch)
		if err != nil {
			return supFailed(cfg, fmt.Errorf("supervisor: child %d: %w", i, err))
		}
		if slices.Contains(names, k.spec.Name) {
			return supFailed(cfg, fmt.Errorf("supervisor: child %d: %w: the name %q is taken", i, axon.ErrBadLink, k.spec.Name))
		}
		kids, names = append(kids, k), append(names, k.spec.Name)
	}
	plan, err := planGraph("supervisor", names, links)
	if err != nil {
		return supFailed(cfg, err)
	}
	plan.opts = append(plan.opts, droppedBox)
	return newSupervisor(cfg, kids, links, plan)
}

var (
	errorType  = reflect.TypeFor[error]()
	droppedBox = axon.WithOutbox(ErrorsBox, "*chassis.DroppedError: messages dropped", axon.Carries[error]())
)

func newSupConfig(opts []SupervisorOption) supConfig {
	cfg := supConfig{intensity: DefaultIntensity, period: DefaultPeriod, backoff: DefaultBackoff, maxOff: DefaultMaxBackoff, shutdown: DefaultShutdownTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.name = cmp.Or(cfg.name, "Supervisor")
	return cfg
}

// supFailed returns a supervisor that reports err when it runs.
func supFailed(cfg supConfig, err error) *SupervisorComponent {
	return &SupervisorComponent{Component: axon.Invalid(cfg.name, err), cfg: cfg}
}

// newKid makes the first instance of ch and the slot that keeps its boxes.
func newKid(ch Child) (*kid, error) {
	if ch.Make == nil {
		return nil, fmt.Errorf("%w: child %q has no Make", axon.ErrBadLink, ch.Name)
	}
	first, err := instance(ch)
	if err != nil {
		return nil, err
	}
	c := first.Core()
	ch.Name = cmp.Or(ch.Name, c.Name())
	k := &kid{spec: ch, orders: make(chan order, 1), first: first}
	var opts []axon.Option
	for _, b := range c.Inboxes() {
		opts = append(opts, axon.WithInbox(b.Name(), b.Doc(), axon.Capacity(b.Cap()), axon.CarriesType(b.Type())))
	}
	for _, b := range c.Outboxes() {
		opts = append(opts, axon.WithOutbox(b.Name(), b.Doc(), axon.CarriesType(b.Type())))
	}
	k.slot = axon.New(ch.Name, k.main, opts...)
	k.status = ChildStatus{Name: ch.Name, Ref: k.slot.Ref(), State: "starting"}
	return k, nil
}

// instance makes a fresh instance of ch, checking that it can run in a
// slot.
func instance(ch Child) (n axon.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: child %q: Make panicked: %v", axon.ErrPanic, ch.Name, r)
		}
	}()
	n = ch.Make()
	switch {
	case !isNode(n):
		return nil, fmt.Errorf("%w: child %q: Make returned no component", axon.ErrBadLink, ch.Name)
	case n.Core().Main() == nil || len(n.Core().Children()) > 0:
		return nil, fmt.Errorf("%w: child %q: %s is a container; supervise a component with a main loop", axon.ErrBadLink, ch.Name, n.Core())
	case n.Core().Running() || n.Core().Parent() != nil:
		return nil, fmt.Errorf("%w: child %q: Make returned %s, which is in a graph already", axon.ErrBadLink, ch.Name, n.Core())
	}
	return n, nil
}

func newSupervisor(cfg supConfig, kids []*kid, links Links, plan graphPlan) *SupervisorComponent {
	s := &SupervisorComponent{cfg: cfg, kids: kids, exits: make(chan exit, len(kids))}
	opts := append(plan.opts, axon.WithOutbox(SupervisionBox, "chassis.Event: children started, failed, restarted, ended; giving up", axon.Carries[Event]()))
	fanout, finish := plan.fanout, !plan.signalFed
	s.Component = axon.New(cfg.name, func(ctx context.Context, c *axon.Component) error {
		return s.main(ctx, fanout, finish)
	}, opts...)
	s.rep = axon.NewReporter(s.Component, ErrorsBox)
	nodes := map[string]axon.Node{}
	var names []string
	for _, k := range kids {
		k.exits = s.exits
		nodes[k.spec.Name] = k.slot
		names = append(names, k.spec.Name)
	}
	if err := wireGraph(s.Component, "supervisor", names, nodes, links, plan); err != nil {
		s.FailOnStart(err)
	}
	return s
}

// Status describes each child, in order.
func (s *SupervisorComponent) Status() []ChildStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ChildStatus, len(s.kids))
	for i, k := range s.kids {
		out[i] = k.status
	}
	return out
}

// main is the slot's main loop: it runs each instance the supervisor
// orders, against the slot's boxes, and reports how it ended.
func (k *kid) main(ctx context.Context, c *axon.Component) error {
	for {
		var o order
		select {
		case o = <-k.orders:
		case <-ctx.Done():
			return nil
		}
		if o.n == nil {
			if c.PassedOn() {
				return nil
			}
			return c.PassOn(ctx, cmp.Or(o.ctl, any(axon.ProducerFinished{From: c.Ref(), Reason: o.reason})))
		}
		x := k.run(ctx, c, o)
		select {
		case k.exits <- x:
		case <-ctx.Done():
			return nil
		}
	}
}

// run runs the main loop of the instance o names against c, under a
// context of its own that the supervisor cancels to stop it, and says how
// it ended.
func (k *kid) run(ctx context.Context, c *axon.Component, o order) (x exit) {
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	k.cmu.Lock()
	k.cancel = cancel
	k.cmu.Unlock()
	t := &axon.Tending{Retry: o.retry, Control: o.ctl}
	c.Tend(t)
	x = exit{k: k}
	func() {
		defer func() {
			if r := recover(); r != nil {
				x.err, x.stack = fmt.Errorf("%w: %v", axon.ErrPanic, r), debug.Stack()
			}
		}()
		x.err = o.n.Core().Main()(ictx, c)
	}()
	c.Tend(nil)
	k.cmu.Lock()
	k.cancel = nil
	k.cmu.Unlock()
	var he *axon.HandlerError
	if errors.As(x.err, &he) {
		x.msg, x.has, x.retried = he.Msg, true, he.Retried
		if he.Stack != nil {
			x.stack = he.Stack
		}
	}
	x.left, x.ctl, x.passedOn, x.stopped = t.Retry, t.Control, c.PassedOn(), ctx.Err() != nil
	return x
}

// interrupt cancels the running instance's context, if one runs.
func (k *kid) interrupt() {
	k.cmu.Lock()
	defer k.cmu.Unlock()
	if k.cancel != nil {
		k.cancel()
	}
}

// main is the supervisor's main loop: it starts the children in order,
// hands on what arrives on control, and deals with each instance that
// ends, until every child has ended.
func (s *SupervisorComponent) main(ctx context.Context, fanout []string, finish bool) error {
	c := s.Component
	var ctl <-chan any // nil when control passes through to the child (Supervise)
	if len(fanout) > 0 {
		ctl = c.In(axon.ControlName)
	}
	for _, k := range s.kids {
		if !s.order(ctx, k, order{n: k.first}) {
			break
		}
		k.first = nil
		s.event(ctx, k, Event{Kind: Started})
	}
	kidsDone := c.ChildrenDone()
	for {
		var x exit
		if len(s.pending) > 0 {
			x, s.pending = s.pending[0], s.pending[1:]
		} else {
			select {
			case x = <-s.exits:
			case msg := <-ctl:
				if stop, err := handOn(ctx, c, fanout, msg); stop || err != nil {
					return s.stopAll(err)
				}
				continue
			case <-kidsDone:
				return childrenEnded(ctx, c, finish)
			case <-ctx.Done():
				return s.stopAll(ctx.Err())
			}
		}
		if err := s.exited(ctx, x); err != nil {
			return s.stopAll(err)
		}
	}
}

// order gives k's slot order o. It reports false if the slot has
// ended.
func (s *SupervisorComponent) order(ctx context.Context, k *kid, o order) bool {
	select {
	case k.orders <- o:
		k.running = o.n != nil
		k.ended = o.n == nil
		return true
	case <-k.slot.Done():
	case <-ctx.Done():
	}
	k.ended = true
	return false
}

// exited deals with an instance of x.k that has ended. An error ends the
// supervisor.
func (s *SupervisorComponent) exited(ctx context.Context, x exit) error {
	k := x.k
	k.running = false
	if x.stopped || ctx.Err() != nil {
		return nil // the slot, or the supervisor, is being stopped
	}
	k.takeBack(x)
	failed := x.err != nil
	if failed {
		s.event(ctx, k, Event{Kind: Failed, Err: x.err, Stack: x.stack})
	}
	restart := k.spec.Restart == Permanent && !x.passedOn || k.spec.Restart == Transient && failed
	if x.has {
		s.inHand(ctx, k, x, restart)
	}
	if !restart {
		s.end(ctx, k, x.err)
		return nil
	}
	if err := s.count(x.err); err != nil {
		s.event(ctx, k, Event{Kind: GaveUp, Err: err})
		return err
	}
	group := s.group(k)
	// Stop the others in reverse order; k has ended already.
	for i := len(group) - 1; i >= 0; i-- {
		if o := group[i]; o != k {
			if err := s.stop(ctx, o); err != nil {
				return err
			}
		}
	}
	delay := s.delay()
	if !s.sleep(ctx, delay, k) {
		return nil
	}
	why := x.err
	for _, o := range group {
		if o.ended {
			continue
		}
		err := why
		if o != k {
			err = fmt.Errorf("%s restarted with %s (%s): %w", o.spec.Name, k.spec.Name, s.cfg.strategy, why)
		}
		if err := s.restart(ctx, o, delay, err); err != nil {
			return err
		}
	}
	return nil
}

// inHand deals with the message x.k's handler had in hand when it
// failed: kept for the next instance, or dropped and reported.
func (s *SupervisorComponent) inHand(ctx context.Context, k *kid, x exit, restart bool) {
	switch {
	case x.retried:
		s.drop(ctx, k, x.msg, x.err, true)
	case !restart || k.spec.InHand == Drop:
		s.drop(ctx, k, x.msg, x.err, false)
	default:
		k.retryFirst(x.msg)
	}
}

// end ends child k, which is not restarted: what it had in hand it will
// never handle, and is reported dropped; its slot passes on a shutdown
// notice, if it has not, so that the stream after it ends too.
func (s *SupervisorComponent) end(ctx context.Context, k *kid, why error) {
	s.event(ctx, k, Event{Kind: Ended, Err: why})
	for _, m := range k.retry {
		s.drop(ctx, k, m, cmp.Or(why, axon.ErrEnded), false)
	}
	o := order{ctl: k.ctl, reason: why}
	k.retry, k.ctl = nil, nil
	s.order(ctx, k, o)
}

// drop reports msg as dropped on "errors": sent while the box is linked,
// logged otherwise.
func (s *SupervisorComponent) drop(ctx context.Context, k *kid, msg any, err error, poison bool) {
	d := &DroppedError{Supervisor: s.String(), Child: k.spec.Name, Msg: msg, Err: err, Poison: poison}
	if out := s.Out(ErrorsBox); out.Linked() {
		if out.Send(ctx, d) == nil {
			return
		}
	}
	s.rep.Report(d)
}

// count records a restart and returns the supervisor's error if there
// have been more within the period than the intensity allows.
func (s *SupervisorComponent) count(last error) error {
	now := time.Now()
	s.window = slices.DeleteFunc(s.window, func(t time.Time) bool { return now.Sub(t) >= s.cfg.period })
	s.window = append(s.window, now)
	if len(s.window) <= s.cfg.intensity {
		return nil
	}
	return fmt.Errorf("supervisor %s: %w (more than %d in %s): last failure: %w", s, ErrGaveUp, s.cfg.intensity, s.cfg.period, cmp.Or(last, axon.ErrEnded))
}

// delay is the backoff before the restart just counted: doubled for each
// earlier restart within the period, with jitter.
func (s *SupervisorComponent) delay() time.Duration {
	d := s.cfg.backoff
	for i := 1; i < len(s.window) && d < s.cfg.maxOff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.maxOff)
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// group lists the children to restart with k, in order.
func (s *SupervisorComponent) group(k *kid) []*kid {
	switch s.cfg.strategy {
	case OneForAll:
		return slices.Clone(s.kids)
	case RestForOne:
		return slices.Clone(s.kids[slices.Index(s.kids, k):])
	}
	return []*kid{k}
}

// stop stops k's running instance, if any, and waits for it to end, at
// most the shutdown timeout. What it had in hand is kept for the next.
func (s *SupervisorComponent) stop(ctx context.Context, k *kid) error {
	if !k.running {
		return nil
	}
	k.interrupt()
	// It may have ended by itself just before, reported meanwhile.
	if i := slices.IndexFunc(s.pending, func(x exit) bool { return x.k == k }); i >= 0 {
		x := s.pending[i]
		s.pending = slices.Delete(s.pending, i, i+1)
		s.stopped(ctx, x)
		return nil
	}
	timer := time.NewTimer(s.cfg.shutdown)
	defer timer.Stop()
	for {
		select {
		case x := <-s.exits:
			if x.k != k {
				s.pending = append(s.pending, x)
				continue
			}
			s.stopped(ctx, x)
			return nil
		case <-k.slot.Done():
			k.running, k.ended = false, true
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return fmt.Errorf("supervisor %s: child %s: %w (%s)", s, k.spec.Name, ErrStopTimeout, s.cfg.shutdown)
		}
	}
}

// takeBack keeps for k's next instance what instance x left: the
// messages it was to retry, and a shutdown message it had taken.
func (k *kid) takeBack(x exit) {
	k.retry = append(k.retry, x.left...)
	k.ctl = cmp.Or(x.ctl, k.ctl)
}

// retryFirst makes msg the first message k's next instance handles.
func (k *kid) retryFirst(msg any) {
	k.retry = append([]any{msg}, k.retry...)
}

// stopped deals with x, the end of an instance that the supervisor
// stopped: what it had in hand goes to the next.
func (s *SupervisorComponent) stopped(ctx context.Context, x exit) {
	k := x.k
	k.running = false
	k.takeBack(x)
	if x.has {
		k.retryFirst(x.msg)
	}
	if x.passedOn {
		// It finished as it was stopped: it ends.
		s.end(ctx, k, nil)
	}
}

// sleep waits d before a restart. It reports false if the supervisor, or
// the failed child k's slot, was stopped meanwhile. What arrives on
// control waits in the children's boxes: a ShutdownMicroprocess stops
// the supervisor through its context.
func (s *SupervisorComponent) sleep(ctx context.Context, d time.Duration, k *kid) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-k.slot.Done():
		k.ended = true
		return true // the others in its group still restart
	case <-ctx.Done():
		return false
	}
}

// restart starts a new instance of k, handing it what its last had in
// hand.
func (s *SupervisorComponent) restart(ctx context.Context, k *kid, delay time.Duration, why error) error {
	n, err := instance(k.spec)
	if err != nil {
		return fmt.Errorf("supervisor %s: restart %s: %w", s, k.spec.Name, err)
	}
	o := order{n: n, retry: k.retry, ctl: k.ctl}
	k.retry, k.ctl = nil, nil
	if !s.order(ctx, k, o) {
		return nil
	}
	s.event(ctx, k, Event{Kind: Restarted, Err: why, Delay: delay})
	return nil
}

// stopAll stops every child, in reverse order, waiting at most the
// shutdown timeout for each, and returns err; or, if a child would not
// stop, an error saying so (joined with err unless err only says that the
// supervisor was stopped, which would hide it from the report).
func (s *SupervisorComponent) stopAll(err error) error {
	timer := time.NewTimer(s.cfg.shutdown)
	defer timer.Stop()
	for i := len(s.kids) - 1; i >= 0; i-- {
		k := s.kids[i]
		k.slot.Stop()
		select {
		case <-k.slot.Done():
		case <-timer.C:
			stuck := fmt.Errorf("supervisor %s: child %s: %w (%s)", s, k.spec.Name, ErrStopTimeout, s.cfg.shutdown)
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return stuck
			}
			return errors.Join(err, stuck)
		}
		timer.Reset(s.cfg.shutdown)
	}
	return err
}

// event records e for k and sends it on "supervision" while linked.
func (s *SupervisorComponent) event(ctx context.Context, k *kid, e Event) {
	e.Child, e.At = k.spec.Name, time.Now()
	s.mu.Lock()
	st := &k.status
	switch e.Kind {
	case Started, Restarted:
		st.Instances++
		st.State = "running"
	case Failed:
		st.Failures++
		st.State = "restarting"
	case Ended, GaveUp:
		st.State = "ended"
	}
	e.Instance = st.Instances
	st.Last = e
	s.mu.Unlock()
	if out := s.Out(SupervisionBox); out.Linked() {
		_ = out.Send(ctx, e)
	} else if e.Kind == Failed || e.Kind == GaveUp {
		s.Logger().Warn("supervised child "+e.Kind.String(), "supervisor", s.String(), "child", e.Child, "instance", e.Instance, "error", e.Err)
	}
}
