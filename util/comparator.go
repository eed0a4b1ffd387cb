package util

import (
	"context"
	"reflect"

	"github.com/kamaelia-go/kamaelia/axon"
)

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
		if stop, again, err := controlFirst(ctx, p.ctl, p.control); stop {
			return err
		} else if again {
			continue
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
	if axon.IsProducerFinished(msg) {
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
		p.c.Logger().Warn("comparator finished with unpaired messages", "component", p.c.String(),
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
