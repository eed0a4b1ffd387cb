package util

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Collated is what Collate sends: a message and the name of the inbox it
// arrived on.
type Collated struct {
	Box string
	Msg any
}

// String formats c as "box: msg".
func (c Collated) String() string { return fmt.Sprintf("%s: %v", c.Box, c.Msg) }

// Collate merges "inbox" and the named inboxes into "outbox": whatever
// arrives on any of them is sent on as a Collated naming the box it came
// in on. Messages from one box keep their order; messages from different
// boxes are sent in the order Collate happens to take them.
//
// Boxes:
//
//	inbox   (in)  messages to merge
//	<name>  (in)  messages to merge, for each name given
//	control (in)  ProducerFinished: what is queued in all the inboxes is
//	              sent on, then it is passed on and Collate ends;
//	              ShutdownMicroprocess: passed on at once, and it ends
//	outbox  (out) a Collated for each message
//	signal  (out) the shutdown message that ended Collate
//
// Naming "inbox" again is harmless; naming an inbox twice, or naming
// "control", "outbox" or "signal", gives a Collate that fails when run
// with an error wrapping axon.ErrBoxExists.
//
// With up to four inboxes ("inbox" counts) Collate waits on them with a
// plain select. With more it uses reflect.Select, which costs a few
// allocations and, on a small machine, roughly 200 ns per message more,
// and makes an idle Collate's goroutine stack twice the minimum size;
// where that matters, write a component with a fixed select of its own.
func Collate(inboxes ...string) *axon.Component {
	const name = "Collate"
	names := []string{axon.InboxName}
	opts := []axon.Option{
		axon.WithInbox(axon.InboxName, "messages to merge"),
		axon.WithOutbox(axon.OutboxName, "each message, with the name of the inbox it came in on", axon.Carries[Collated]()),
	}
	for _, n := range inboxes {
		switch {
		case n == axon.InboxName:
			continue
		case n == axon.ControlName:
			// axon would let this redeclare "control"; an outbox's name
			// ("outbox", "signal") it refuses itself when Collate runs.
			return invalid(name, fmt.Errorf("%s: inbox %q: %w: reserved for shutdown messages", name, n, axon.ErrBoxExists))
		case slices.Contains(names, n):
			return invalid(name, fmt.Errorf("%s: inbox %q: %w: named twice", name, n, axon.ErrBoxExists))
		}
		names = append(names, n)
		opts = append(opts, axon.WithInbox(n, "messages to merge"))
	}
	p := &collator{names: names}
	// The main loop is a closure, not a method value, and does its
	// waiting itself: an idle Collate's stack then fits in the minimum
	// goroutine stack.
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		p.setup(ctx, c)
		for {
			// Control first, so that a busy inbox does not delay it.
			select {
			case msg := <-p.ctl:
				if stop, err := p.control(ctx, msg); stop || err != nil {
					return err
				}
				continue
			default:
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			// i is the index of the inbox msg came from; -1 stands for
			// control, -2 for the end of ctx.
			i, msg := -2, any(nil)
			if p.cases != nil {
				i, msg = p.selectMany()
			} else {
				select {
				case msg = <-p.fixed[0]:
					i = 0
				case msg = <-p.fixed[1]:
					i = 1
				case msg = <-p.fixed[2]:
					i = 2
				case msg = <-p.fixed[3]:
					i = 3
				case msg = <-p.ctl:
					i = -1
				case <-ctx.Done():
				}
			}
			switch {
			case i >= 0:
				if err := p.send(ctx, i, msg); err != nil {
					return err
				}
			case i == -1:
				if stop, err := p.control(ctx, msg); stop || err != nil {
					return err
				}
			default:
				return ctx.Err()
			}
		}
	}, opts...)
}

// fixedBoxes is how many inboxes Collate can wait on with a plain select;
// beyond that it uses reflect.Select.
const fixedBoxes = 4

// collator is the state of a Collate's main loop.
type collator struct {
	names []string // the inboxes merged, "inbox" first
	c     *axon.Component
	out   *axon.Outbox
	ctl   <-chan any
	chans []<-chan any           // one per name
	fixed [fixedBoxes]<-chan any // chans, then nil (never ready)
	cases []reflect.SelectCase   // chans, ctl and ctx.Done, beyond fixedBoxes
}

// send sends msg, which came from inbox i, on as a Collated.
func (p *collator) send(ctx context.Context, i int, msg any) error {
	return p.out.Send(ctx, Collated{Box: p.names[i], Msg: msg})
}

// setup finds the boxes; kept out of the main loop so that the loop's
// stack frame, on the stack all the time Collate is idle, stays small.
func (p *collator) setup(ctx context.Context, c *axon.Component) {
	p.c, p.out, p.ctl = c, c.Out(axon.OutboxName), c.In(axon.ControlName)
	p.chans = make([]<-chan any, len(p.names))
	for i, n := range p.names {
		p.chans[i] = c.In(n)
	}
	if len(p.chans) <= fixedBoxes {
		copy(p.fixed[:], p.chans)
	} else {
		p.cases = make([]reflect.SelectCase, 0, len(p.chans)+2)
		for _, ch := range p.chans {
			p.cases = append(p.cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		p.cases = append(p.cases,
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(p.ctl)},
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
		)
	}
}

// selectMany waits on all the boxes with reflect.Select. It returns the
// index of the inbox msg came from, -1 for control, or -2 if ctx has
// ended.
func (p *collator) selectMany() (int, any) {
	chosen, v, _ := reflect.Select(p.cases)
	switch n := len(p.chans); {
	case chosen < n:
		return chosen, received(v)
	case chosen == n:
		return -1, received(v)
	}
	return -2, nil
}

// control acts on a control message; it reports stop when Collate is to
// end.
func (p *collator) control(ctx context.Context, msg any) (stop bool, err error) {
	if !isFinish(msg) {
		return p.c.Control(ctx, msg, nil)
	}
	if err := p.drainAll(ctx); err != nil {
		return true, err
	}
	return true, p.c.PassOn(ctx, msg)
}

// drainAll sends on whatever is queued in Collate's inboxes, taking one
// message from each box in turn until all are empty. It stops if ctx ends
// (as a ShutdownMicroprocess arriving meanwhile makes it).
func (p *collator) drainAll(ctx context.Context) error {
	for more := true; more; {
		more = false
		for i, ch := range p.chans {
			select {
			case m := <-ch:
				more = true
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := p.send(ctx, i, m); err != nil {
					return err
				}
			default:
			}
		}
	}
	return nil
}

// received unwraps a value taken by reflect.Select from a chan any.
func received(v reflect.Value) any {
	if !v.IsValid() || (v.Kind() == reflect.Interface && v.IsNil()) {
		return nil
	}
	return v.Interface()
}

// Comparator pairs the n-th message arriving on "inA" with the n-th
// arriving on "inB" and sends on "outbox" whether they are equal, as
// reflect.DeepEqual judges (Kamaelia's Comparator). A message waits for its
// partner; while it waits, Comparator takes nothing more from its box, so
// a box that runs ahead is held back rather than queued without bound.
//
// Boxes:
//
//	inA     (in)  first values
//	inB     (in)  second values
//	inbox   (in)  not used
//	control (in)  ProducerFinished: the pairs that can be made from what is
//	              queued are compared, then it is passed on and Comparator
//	              ends (messages left without a partner are logged);
//	              ShutdownMicroprocess: passed on at once, and it ends
//	outbox  (out) a bool for each pair
//	signal  (out) the shutdown message that ended Comparator
func Comparator() *axon.Component {
	p := new(comparator)
	return axon.New("Comparator", p.main,
		axon.WithInbox("inA", "first values"),
		axon.WithInbox("inB", "second values"),
		axon.WithInbox(axon.InboxName, "not used"),
		axon.WithOutbox(axon.OutboxName, "whether each pair is equal (reflect.DeepEqual)", axon.Carries[bool]()),
	)
}

// comparator is the state of a Comparator's main loop: the value from
// each side waiting for its partner, if any.
type comparator struct {
	c             *axon.Component
	inA, inB, ctl <-chan any
	out           *axon.Outbox
	a, b          any
	haveA, haveB  bool
}

func (p *comparator) main(ctx context.Context, c *axon.Component) error {
	p.c, p.inA, p.inB, p.ctl, p.out = c, c.In("inA"), c.In("inB"), c.In(axon.ControlName), c.Out(axon.OutboxName)
	for {
		// Control first, so that busy inboxes do not delay it.
		select {
		case msg := <-p.ctl:
			if stop, err := p.control(ctx, msg); stop || err != nil {
				return err
			}
			continue
		default:
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p.haveA && p.haveB {
			if err := p.compare(ctx); err != nil {
				return err
			}
			continue
		}
		var ca, cb <-chan any // nil (never ready) while holding a value
		if !p.haveA {
			ca = p.inA
		}
		if !p.haveB {
			cb = p.inB
		}
		select {
		case p.a = <-ca:
			p.haveA = true
		case p.b = <-cb:
			p.haveB = true
		case msg := <-p.ctl:
			if stop, err := p.control(ctx, msg); stop || err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// compare sends whether the pair held is equal, and lets it go.
func (p *comparator) compare(ctx context.Context) error {
	if err := p.out.Send(ctx, reflect.DeepEqual(p.a, p.b)); err != nil {
		return err
	}
	p.a, p.b, p.haveA, p.haveB = nil, nil, false, false
	return nil
}

// control acts on a control message; it reports stop when the Comparator
// is to end.
func (p *comparator) control(ctx context.Context, msg any) (stop bool, err error) {
	if isFinish(msg) {
		return true, p.finish(ctx, msg)
	}
	return p.c.Control(ctx, msg, nil)
}

// finish compares the pairs that can be made from what is queued, then
// passes msg (a ProducerFinished) on.
func (p *comparator) finish(ctx context.Context, msg any) error {
	for {
		if !p.haveA {
			select {
			case p.a = <-p.inA:
				p.haveA = true
			default:
			}
		}
		if !p.haveB {
			select {
			case p.b = <-p.inB:
				p.haveB = true
			default:
			}
		}
		if !p.haveA || !p.haveB {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := p.compare(ctx); err != nil {
			return err
		}
	}
	if p.haveA || p.haveB || len(p.inA) > 0 || len(p.inB) > 0 {
		slog.Warn("comparator finished with unpaired messages", "component", p.c.String(),
			"inA", len(p.inA)+btoi(p.haveA), "inB", len(p.inB)+btoi(p.haveB))
	}
	return p.c.PassOn(ctx, msg)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
