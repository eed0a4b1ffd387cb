package axon

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
)

// linkMu serialises every change to the link graph, across all graphs in
// the process. Links change rarely (when graphs are built, when a Carousel
// swaps its child); sends never take it.
var linkMu sync.Mutex

// epoch is closed and replaced whenever an outbox that led nowhere gains a
// route. A sender whose outbox leads nowhere waits on it and then looks
// again. (A sender blocked
// on a full inbox waits on that inbox's own wake channel instead, so busy
// senders never share a lock.)
var epoch atomic.Pointer[chan struct{}]

func init() {
	ch := make(chan struct{})
	epoch.Store(&ch)
}

func linkEpoch() <-chan struct{} { return *epoch.Load() }

// bumpEpoch wakes every sender waiting for a route. Called with linkMu
// held, by refreshOut, after the new route is stored.
func bumpEpoch() {
	ch := make(chan struct{})
	old := epoch.Swap(&ch)
	close(*old)
}

// Link connects box fromBox of from to box toBox of to. The kind of link
// follows from the kinds of the two boxes:
//
//   - outbox -> inbox: an ordinary link between siblings (or any two
//     components).
//   - inbox -> inbox: a passthrough from a parent's inbox to one of its
//     children's: what arrives for the parent goes straight to the child.
//   - outbox -> outbox: a passthrough from a child's outbox to its
//     parent's: what the child sends leaves through the parent's box.
//
// However links are chained and in whatever order they are made, a message
// crosses exactly one channel from the outbox it is sent on to the inbox
// its owner receives from.
//
// The source box must not already be linked (an outbox feeds one
// destination; use a Splitter to fan out), while many sources may feed one
// inbox. Unknown box names, mismatched kinds, a passthrough between
// components that are not parent and child, and declared types that do not
// fit are errors naming both ends.
//
// A passthrough moves nothing: what is already queued in the parent's own
// inbox stays for the parent's main loop. Containers whose main loop never
// reads a box declare it PassthroughOnly, so nothing queues there: while
// such a box passes through to no child, senders wait as if unlinked.
func Link(from Node, fromBox string, to Node, toBox string) error {
	src, dst := from.Core(), to.Core()
	linkMu.Lock()
	defer linkMu.Unlock()
	fin, fout := src.find(fromBox)
	tin, tout := dst.find(toBox)
	lerr := func(err error) error {
		return &LinkError{From: src.String() + "." + fromBox, To: dst.String() + "." + toBox, Err: err}
	}
	switch {
	case fin == nil && fout == nil:
		return lerr(&BoxError{Component: src.String(), Box: fromBox, Err: ErrNoSuchBox})
	case tin == nil && tout == nil:
		return lerr(&BoxError{Component: dst.String(), Box: toBox, Err: ErrNoSuchBox})
	}
	switch {
	case fout != nil && tin != nil:
		if err := checkFree(fout); err != nil {
			return lerr(err)
		}
		if err := checkTypes(fout.typ, tin.typ); err != nil {
			return lerr(err)
		}
		fout.to = tin
		tin.fromOut = append(tin.fromOut, fout)
		refreshOut(fout)
		notifyLink(EventLinked, src, fromBox, dst, toBox, false)
	case fout != nil && tout != nil:
		if src.parent != dst {
			return lerr(fmt.Errorf("%w: outbox passthrough needs %s to be a child of %s", ErrBadLink, src, dst))
		}
		if err := checkFree(fout); err != nil {
			return lerr(err)
		}
		if err := checkTypes(fout.typ, tout.typ); err != nil {
			return lerr(err)
		}
		fout.up = tout
		tout.from = append(tout.from, fout)
		refreshOut(fout)
		notifyLink(EventLinked, src, fromBox, dst, toBox, true)
	case fin != nil && tin != nil:
		if dst.parent != src {
			return lerr(fmt.Errorf("%w: inbox passthrough needs %s to be a child of %s", ErrBadLink, dst, src))
		}
		if fin.fwd != nil {
			return lerr(fmt.Errorf("%w: %s already passes through to %s", ErrAlreadyLinked, fin, fin.fwd))
		}
		if err := checkTypes(fin.typ, tin.typ); err != nil {
			return lerr(err)
		}
		if err := passInbox(fin, tin); err != nil {
			return lerr(err)
		}
		notifyLink(EventLinked, src, fromBox, dst, toBox, true)
	default:
		return lerr(fmt.Errorf("%w: cannot link an inbox to an outbox", ErrBadLink))
	}
	return nil
}

// Unlink removes the link that leaves box fromBox of from (each source box
// has at most one). Messages already queued in the destination stay there;
// a send made while the box is unlinked waits until it is linked again.
func Unlink(from Node, fromBox string) error {
	src := from.Core()
	linkMu.Lock()
	defer linkMu.Unlock()
	in, out := src.find(fromBox)
	switch {
	case out != nil:
		if out.to == nil && out.up == nil {
			return &BoxError{Component: src.String(), Box: fromBox, Op: "unlink", Err: ErrNotLinked}
		}
		unlinkOut(out)
	case in != nil:
		if in.fwd == nil {
			return &BoxError{Component: src.String(), Box: fromBox, Op: "unlink", Err: ErrNotLinked}
		}
		unlinkIn(in)
	default:
		return &BoxError{Component: src.String(), Box: fromBox, Op: "unlink", Err: ErrNoSuchBox}
	}
	return nil
}

// unlinkOut removes out's outgoing link. Called with linkMu held.
func unlinkOut(out *Outbox) {
	if out.to != nil {
		notifyLink(EventUnlinked, out.owner, out.name, out.to.owner, out.to.name, false)
		out.to.fromOut = removeItem(out.to.fromOut, out)
		out.to = nil
	}
	if out.up != nil {
		notifyLink(EventUnlinked, out.owner, out.name, out.up.owner, out.up.name, true)
		out.up.from = removeItem(out.up.from, out)
		out.up = nil
	}
	refreshOut(out)
}

// unlinkIn removes in's passthrough. Called with linkMu held.
func unlinkIn(in *Inbox) {
	notifyLink(EventUnlinked, in.owner, in.name, in.fwd.owner, in.fwd.name, true)
	in.fwd.fromIn = removeItem(in.fwd.fromIn, in)
	in.fwd = nil
	refreshIn(in)
}

// unlinkAll removes every link into or out of the given boxes. Called with
// linkMu held.
func unlinkAll(ins []*Inbox, outs []*Outbox) {
	for _, out := range outs {
		if out.to != nil || out.up != nil {
			unlinkOut(out)
		}
		for len(out.from) > 0 {
			unlinkOut(out.from[0])
		}
	}
	for _, in := range ins {
		if in.fwd != nil {
			unlinkIn(in)
		}
		for len(in.fromOut) > 0 {
			unlinkOut(in.fromOut[0])
		}
		for len(in.fromIn) > 0 {
			unlinkIn(in.fromIn[0])
		}
	}
}

func checkFree(out *Outbox) error {
	switch {
	case out.to != nil:
		return fmt.Errorf("%w: %s already goes to %s", ErrAlreadyLinked, out, out.to)
	case out.up != nil:
		return fmt.Errorf("%w: %s already passes through to %s", ErrAlreadyLinked, out, out.up)
	}
	return nil
}

// passInbox makes parent pass through to child. Anything already queued
// in parent's own channel stays there for parent's main loop: nothing is
// ever moved between queues, so no sender can race a move. Called with
// linkMu held.
func passInbox(parent, child *Inbox) error {
	for i := child; i != nil; i = i.fwd {
		if i == parent {
			return fmt.Errorf("%w: passthrough from %s to %s would form a loop", ErrBadLink, parent, child)
		}
	}
	parent.fwd = child
	child.fromIn = append(child.fromIn, parent)
	refreshIn(parent)
	return nil
}

// final follows passthroughs to the inbox that holds messages, or nil if
// the chain ends at a passthrough-only box (which holds none).
func (b *Inbox) final() *Inbox {
	for b.fwd != nil {
		b = b.fwd
	}
	if b.ch == nil {
		return nil
	}
	return b
}

// resolve follows passthroughs to the inbox a message would reach now.
// Called with linkMu held.
func (b *Outbox) resolve() *Inbox {
	for b.up != nil {
		b = b.up
	}
	if b.to == nil {
		return nil
	}
	return b.to.final()
}

// refreshOut recomputes the destination of out and of every child outbox
// that passes through it. Called with linkMu held.
func refreshOut(out *Outbox) {
	nd := out.resolve()
	old := out.dest.Swap(nd)
	if old != nd {
		out.rerouted(old)
	}
	switch {
	case old == nd:
	case old != nil:
		old.wake() // senders blocked on the old destination look again
	default:
		bumpEpoch() // a route appeared: senders waiting for one look again
	}
	for _, c := range out.from {
		refreshOut(c)
	}
}

// refreshIn recomputes every outbox whose route passes through in. Called
// with linkMu held.
func refreshIn(in *Inbox) {
	for _, o := range in.fromOut {
		refreshOut(o)
	}
	for _, p := range in.fromIn {
		refreshIn(p)
	}
}

// checkTypes refuses a link when both ends declare a type and the source's
// cannot be assigned to the destination's. An undeclared end carries any.
func checkTypes(from, to reflect.Type) error {
	if from == nil || to == nil || from.AssignableTo(to) {
		return nil
	}
	return fmt.Errorf("%w: source carries %s, destination takes %s", ErrTypeMismatch, from, to)
}

func removeItem[T comparable](s []T, x T) []T {
	for i, v := range s {
		if v == x {
			copy(s[i:], s[i+1:])
			var zero T
			s[len(s)-1] = zero
			return s[:len(s)-1]
		}
	}
	return s
}
