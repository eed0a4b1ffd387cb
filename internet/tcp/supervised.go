package tcp

import (
	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
)

// Supervised wraps factory so that each connection's protocol handler
// runs under a supervisor (chassis.Supervise): a handler that fails or
// panics is restarted in place instead of ending its connection. The
// connection, and whatever the client sent meanwhile, wait for the new
// handler; the chunk the handler had in hand is retried or dropped as
// inHand says (a handler that had written part of its answer writes it
// again when retried). A handler that ends by itself ends the connection
// as before (the restart type is chassis.Transient). When the
// supervisor's restart intensity is exceeded, the connection closes with
// that error as the Reason of its Closed event. opts configure each
// connection's supervisor.
//
//	srv := tcp.Server(":1500", tcp.Supervised(handler, chassis.Drop))
func Supervised(factory Factory, inHand chassis.InHand, opts ...chassis.SupervisorOption) Factory {
	return func(ci ConnInfo) axon.Node {
		first := factory(ci)
		if first == nil || first.Core() == nil {
			return nil // refused, as factory said
		}
		next := func() axon.Node {
			if n := first; n != nil {
				first = nil
				return n
			}
			return factory(ci)
		}
		return chassis.Supervise(chassis.Child{Make: next, Restart: chassis.Transient, InHand: inHand}, opts...)
	}
}
