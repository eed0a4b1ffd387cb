package simulate_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
)

// Every stage, and a Network of them, keeps the shutdown rules (issue
// 12), on the real clock with short times, so that what a stage holds is
// delivered soon after ProducerFinished.
func TestConformance(t *testing.T) {
	var payloads []any
	for i := range 8 {
		payloads = append(payloads, fmt.Appendf(nil, "payload %d", i))
	}
	feed := axontest.Feed(payloads...)
	for name, factory := range map[string]func() axon.Node{
		"Loss":      func() axon.Node { return simulate.Loss(0.2, simulate.Seed(1)) },
		"Duplicate": func() axon.Node { return simulate.Duplicate(0.5, simulate.Seed(1)) },
		"Corrupt":   func() axon.Node { return simulate.Corrupt(0.5, simulate.Seed(1)) },
		"Reorder":   func() axon.Node { return simulate.Reorder(4, simulate.Seed(1), simulate.MaxHold(5*time.Millisecond)) },
		"Delay":     func() axon.Node { return simulate.Delay(2*time.Millisecond, time.Millisecond, simulate.Seed(1)) },
		"RateLimit": func() axon.Node { return simulate.RateLimit(1e5, simulate.Seed(1)) },
		"RateLimitBlock": func() axon.Node {
			return simulate.RateLimit(1e5, simulate.Queue(2), simulate.Block(), simulate.Seed(1))
		},
		"Network": func() axon.Node {
			return simulate.Network(simulate.Config{
				Rate: 1e5, Loss: 0.1, Duplicate: 0.2, Corrupt: 0.2, Reorder: 3, MaxHold: 5 * time.Millisecond,
				Delay: 2 * time.Millisecond, Jitter: time.Millisecond, Seed: 1,
			})
		},
		"NetworkPass": func() axon.Node { return simulate.Network(simulate.Config{Seed: 1}) },
	} {
		t.Run(name, func(t *testing.T) { axontest.Conformance(t, factory, feed) })
	}
}
