package util

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Merged is what Merge sends: a message and the name of the inbox it
// arrived on.
type Merged struct {
	Box string
	Msg any
}

// String formats m as "box: msg".
func (m Merged) String() string { return fmt.Sprintf("%s: %v", m.Box, m.Msg) }

// Merge combines "inbox" and the named inboxes into "outbox": whatever
// arrives on any of them is sent on as a Merged naming the box it came
// in on. Messages from one box keep their order; messages from different
// boxes are sent in the order Merge happens to take them. Kamaelia has no
// component quite like it (its Collate, which gathers a whole stream into
// one list, is Collate here).
//
// Boxes:
//
//	inbox   (in)  messages to merge
//	<name>  (in)  messages to merge, for each name given
//	control (in)  ProducerFinished: what is queued in all the inboxes is
//	              sent on, then it is passed on and Merge ends;
//	              ShutdownMicroprocess: passed on at once, and it ends
//	outbox  (out) a Merged for each message
//	signal  (out) the shutdown message that ended Merge
//
// Naming "inbox" again is harmless; naming an inbox twice, or naming
// "control", "outbox" or "signal", gives a Merge that fails when run
// with an error wrapping axon.ErrBoxExists.
//
// With up to four inboxes ("inbox" counts) Merge waits on them with a
// plain select. With more it uses reflect.Select, which costs a few
// allocations and, on a small machine, roughly 200 ns per message more,
// and makes an idle Merge's goroutine stack twice the minimum size;
// where that matters, write a component with a fixed select of its own.
func Merge(inboxes ...string) *axon.Component {
	const name = "Merge"
	names := []string{axon.InboxName}
	opts := []axon.Option{
		axon.WithInbox(axon.InboxName, "messages to merge"),
		axon.WithOutbox(axon.OutboxName, "each message, with the name of the inbox it came in on", axon.Carries[Merged]()),
	}
	for _, n := range inboxes {
		switch {
		case n == axon.InboxName:
			continue
		case n == axon.ControlName:
			// axon would let this redeclare "control"; an outbox's name
			// ("outbox", "signal") it refuses itself when Merge runs.
			return axon.Invalid(name, fmt.Errorf("%s: inbox %q: %w: reserved for shutdown messages", name, n, axon.ErrBoxExists))
		case slices.Contains(names, n):
			return axon.Invalid(name, fmt.Errorf("%s: inbox %q: %w: named twice", name, n, axon.ErrBoxExists))
		}
		names = append(names, n)
		opts = append(opts, axon.WithInbox(n, "messages to merge"))
	}
	p := &merger{names: names}
	// The main loop is a closure, not a method value, and does its
	// waiting itself: an idle Merge's stack then fits in the minimum
	// goroutine stack.
	return axon.New(name, func(ctx context.Context, c *axon.Component) error {
		p.setup(ctx, c)
		for {
			if stop, again, err := controlFirst(ctx, p.ctl, p.control); stop {
				return err
			} else if again {
				continue
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

// fixedBoxes is how many inboxes Merge can wait on with a plain select;
// beyond that it uses reflect.Select.
const fixedBoxes = 4

// merger is the state of a Merge's main loop.
type merger struct {
	names []string // the inboxes merged, "inbox" first
	c     *axon.Component
	out   *axon.Outbox
	ctl   <-chan any
	chans []<-chan any           // one per name
	fixed [fixedBoxes]<-chan any // chans, then nil (never ready)
	cases []reflect.SelectCase   // chans, ctl and ctx.Done, beyond fixedBoxes
}

// send sends msg, which came from inbox i, on as a Merged.
func (p *merger) send(ctx context.Context, i int, msg any) error {
	return p.out.Send(ctx, Merged{Box: p.names[i], Msg: msg})
}

// setup finds the boxes; kept out of the main loop so that the loop's
// stack frame, on the stack all the time Merge is idle, stays small.
func (p *merger) setup(ctx context.Context, c *axon.Component) {
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
func (p *merger) selectMany() (int, any) {
	chosen, v, _ := reflect.Select(p.cases)
	switch n := len(p.chans); {
	case chosen < n:
		return chosen, received(v)
	case chosen == n:
		return -1, received(v)
	}
	return -2, nil
}

// control acts on a control message; it reports stop when Merge is to
// end.
func (p *merger) control(ctx context.Context, msg any) (stop bool, err error) {
	if !axon.IsProducerFinished(msg) {
		return p.c.Control(ctx, msg, nil)
	}
	if err := p.drainAll(ctx); err != nil {
		return true, err
	}
	return true, p.c.PassOn(ctx, msg)
}

// drainAll sends on whatever is queued in Merge's inboxes, taking one
// message from each box in turn until all are empty. It stops if ctx ends
// (as a ShutdownMicroprocess arriving meanwhile makes it).
func (p *merger) drainAll(ctx context.Context) error {
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
