package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/components/nats"
	"github.com/kamaelia-go/kamaelia/components/nats/natsbackplane"
	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
)

// ---- local fan-out ----

const (
	fanoutDeliveries = 1_000_000 // subscriber-messages per timed run: M = this / N
	fanoutRounds     = 5
)

var fanoutSubscribers = []int{1, 10, 100}

// backplaneSeq makes backplane names unique across runs.
var backplaneSeq atomic.Uint64

func backplaneName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, backplaneSeq.Add(1))
}

// endWait is what a Wait after Stop may return: nothing, or the
// cancellation that Stop caused.
func endWait(h *axon.Handle) error {
	if err := h.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// fanoutParts are the components a fan-out contender publishes from and
// counts with: the source of n messages, and a sink counting into t.
type fanoutParts struct {
	source func(n int) *axon.Component
	sink   func(t *tally) *axon.Component
}

var (
	// fanoutServe is what components are written as since the batched
	// hop: a producer with its messages ready sends them in one Batch
	// (burstSource), a consumer is served by Serve (serveSink), as in
	// the pipeline benchmarks. The headline.
	fanoutServe = fanoutParts{burstSource, serveSink}
	// fanoutSelect is the source and sink of the first sessions: a
	// source that sends each message with its own Send, and a sink with
	// a select of its own over its boxes, which reads its inbox raw and
	// so takes no batches. It shows what the framework costs for
	// components written that way.
	fanoutSelect = fanoutParts{source, sink}
)

// runFanoutFramework starts a Backplane and subs Pipeline(SubscribeTo,
// sink) subscribers, waits until all have joined, publishes n messages
// through one Pipeline(source, PublishTo), then sends ProducerFinished to
// the Backplane, which delivers what is queued and ends, and with it every
// subscriber once it has passed on what it had. It returns the fewest
// messages any sink saw: n when every subscriber got every message.
func runFanoutFramework(ctx context.Context, parts fanoutParts, subs, n int) (int, error) {
	name := backplaneName("fanout")
	bp := backplane.Backplane(name)
	hb := axon.Start(ctx, bp)
	tallies := make([]tally, subs)
	joins := make([]*backplane.SubscribeToComponent, subs)
	pipes := make([]axon.Node, subs)
	for i := range pipes {
		joins[i] = backplane.SubscribeTo(name, backplane.Wait(5*time.Second))
		pipes[i] = chassis.Pipeline(joins[i], parts.sink(&tallies[i]))
	}
	hs := axon.Start(ctx, axon.New("Subscribers", nil, axon.WithChildren(pipes...)))
	fail := func(err error) (int, error) {
		hb.Stop()
		hs.Stop()
		return 0, errors.Join(err, endWait(hb), endWait(hs))
	}
	for _, j := range joins {
		select {
		case <-j.Joined():
		case <-hs.Done():
			return fail(fmt.Errorf("a subscriber ended before joining: %w", hs.Wait()))
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
	if err := axon.Run(ctx, chassis.Pipeline(parts.source(n), backplane.PublishTo(name))); err != nil {
		return fail(err)
	}
	if err := hb.Put(ctx, axon.ControlName, axon.ProducerFinished{}); err != nil {
		return fail(err)
	}
	if err := errors.Join(hb.Wait(), hs.Wait()); err != nil {
		return 0, err
	}
	least := n
	for _, t := range tallies {
		least = min(least, t.n)
	}
	return least, nil
}

// runFanoutRaw is the hand-written fan-out: a source goroutine, one
// goroutine that receives each message and sends it to subs channels in
// turn, and a counting goroutine on each, every channel of the
// framework's default capacity and every send and receive also watching
// ctx. The fan-out loop tries each send without waiting first, and only
// if the channel is full waits in a select that also watches ctx: the
// same technique the framework's Outbox.Send uses, so that the
// comparison is of the framework's overhead, not of a cheaper way to
// send (with a select for every send this loop was 1.5 times slower at
// 100 subscribers). It returns the fewest messages any counter saw.
func runFanoutRaw(ctx context.Context, subs, n int) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan any, axon.DefaultCapacity)
	outs := make([]chan any, subs)
	for i := range outs {
		outs[i] = make(chan any, axon.DefaultCapacity)
	}
	tallies := make([]tally, subs)
	errs := make([]error, subs)
	var wg sync.WaitGroup
	wg.Go(func() { rawSource(ctx, in, n) })
	wg.Go(func() {
		defer func() {
			for _, o := range outs {
				close(o)
			}
		}()
		done := ctx.Done()
		for {
			select {
			case m, ok := <-in:
				if !ok {
					return
				}
				for _, o := range outs {
					// A send that can go at once goes without a select,
					// as the framework's Outbox.Send does.
					select {
					case o <- m:
						continue
					default:
					}
					select {
					case o <- m:
					case <-done:
						return
					}
				}
			case <-done:
				return
			}
		}
	})
	for i := range outs {
		wg.Go(func() {
			if errs[i] = rawSink(ctx, outs[i], &tallies[i]); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	least := n
	for _, t := range tallies {
		least = min(least, t.n)
	}
	return least, errors.Join(errs...)
}

// The fan-out contenders, in the order fanoutContenders gives them.
const (
	fanFramework = iota
	fanSelect
	fanRaw
)

func fanoutContenders(subs int) []contender {
	return []contender{
		fanFramework: {fmt.Sprintf("backplane-%d", subs), func(ctx context.Context, n int) (int, error) {
			return runFanoutFramework(ctx, fanoutServe, subs, n)
		}},
		fanSelect: {fmt.Sprintf("backplane-select-%d", subs), func(ctx context.Context, n int) (int, error) {
			return runFanoutFramework(ctx, fanoutSelect, subs, n)
		}},
		fanRaw: {fmt.Sprintf("raw-fanout-%d", subs), func(ctx context.Context, n int) (int, error) { return runFanoutRaw(ctx, subs, n) }},
	}
}

// BenchmarkBackplaneFanout publishes M messages through one PublishTo to a
// Backplane with 1, 10 and 100 SubscribeTo subscribers, each feeding a
// counting sink component, against a hand-written fan-out loop with the
// same number of counting goroutines. The framework runs twice: with the
// components written as they are since the batched hop (a Batch source,
// Serve sinks: the headline), and with a source that sends each message
// on its own and sinks with a select of their own (fanoutSelect). M is
// 1,000,000 / N, so each run makes a million deliveries. Rounds rotate;
// rates are medians, in deliveries (subscriber-messages) per second. The
// framework's runs include starting the Backplane and its subscribers and
// waiting for them to join.
func BenchmarkBackplaneFanout(b *testing.B) {
	for _, subs := range fanoutSubscribers {
		msgs := fanoutDeliveries / subs
		res, err := compare(context.Background(), max(b.N, fanoutRounds), msgs, fanoutContenders(subs)...)
		if err != nil {
			b.Fatal(err)
		}
		fw, sel, r := res.rate(fanFramework)*float64(subs), res.rate(fanSelect)*float64(subs), res.rate(fanRaw)*float64(subs)
		ratio, lo, hi := res.ratio(fanFramework, fanRaw)
		ratioS, loS, hiS := res.ratio(fanSelect, fanRaw)
		b.ReportMetric(fw, fmt.Sprintf("backplane-%d-deliveries/s", subs))
		b.ReportMetric(sel, fmt.Sprintf("backplane-select-%d-deliveries/s", subs))
		b.ReportMetric(r, fmt.Sprintf("raw-%d-deliveries/s", subs))
		b.ReportMetric(ratio, fmt.Sprintf("ratio-%d", subs))
		b.ReportMetric(ratioS, fmt.Sprintf("ratio-select-%d", subs))
		report(b, "fanout N=%d (M=%d): backplane %s Mdeliveries/s, hand-written %s Mdeliveries/s, ratio %.2f (%d rounds %.2f..%.2f); with a per-message source and select sinks %s Mdeliveries/s, ratio %.2f (%.2f..%.2f)",
			subs, msgs, mega(fw), mega(r), ratio, res.n(), lo, hi, mega(sel), ratioS, loS, hiS)
	}
	b.ReportMetric(0, "ns/op")
}

// ---- NATS ----

const (
	natsMsgs     = 100_000
	natsMsgSize  = 64
	natsRounds   = 10
	natsTarget   = 0.9
	natsIdleWait = 250 * time.Millisecond // no progress for this long ends a run that lost messages
)

// natsPayload is every message's payload: Publisher and nc.Publish copy
// it, so one slice serves. natsMessage is the same slice as a message,
// boxed once: components send it, so that the framework's side does not
// pay for an allocation per message that a []byte argument to
// nc.Publish does not.
var (
	natsPayload     = make([]byte, natsMsgSize)
	natsMessage any = natsPayload
)

// Flow control. Core NATS drops what a subscriber has no room for (its
// channel holds nats.DefaultBuffer messages), and a publish loop outruns
// any receiver, so every contender's publisher keeps at most natsWindow
// messages in flight: before each message it waits until the receiver has
// counted all but natsWindow of those sent. The receiver reports progress
// every natsStep messages. In flight never exceeds the channel, so NATS
// drops nothing, and every contender pays for the same pacing.
const (
	natsWindow = nats.DefaultBuffer / 2
	natsStep   = 32
)

// counter counts messages that arrive and closes all once it has want.
type counter struct {
	got      atomic.Int64
	want     int64
	idle     time.Duration // no progress for this long ends wait (natsIdleWait)
	all      chan struct{}
	progress chan struct{} // a token every natsStep messages
}

func newCounter(want int) *counter {
	return &counter{want: int64(want), idle: natsIdleWait, all: make(chan struct{}), progress: make(chan struct{}, 1)}
}

func (c *counter) add(m any) error {
	if p, ok := m.([]byte); !ok || len(p) != natsMsgSize {
		return fmt.Errorf("got %T of length %d, want %d bytes", m, len(p), natsMsgSize)
	}
	g := c.got.Add(1)
	if g == c.want {
		close(c.all)
	}
	if g%natsStep == 0 {
		select {
		case c.progress <- struct{}{}:
		default:
		}
	}
	return nil
}

// pace waits until sending message number sent (from 0) keeps no more
// than natsWindow messages in flight.
func (c *counter) pace(ctx context.Context, sent int) error {
	for int64(sent)-c.got.Load() >= natsWindow {
		select {
		case <-c.progress:
		case <-c.all:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// wait returns once every message has arrived, or once none has arrived
// for c.idle, with the time of the last progress it saw.
func (c *counter) wait(ctx context.Context) (time.Time, error) {
	tick := time.NewTicker(c.idle / 10)
	defer tick.Stop()
	last, seen := time.Now(), c.got.Load()
	for {
		select {
		case <-c.all:
			return time.Now(), nil
		case now := <-tick.C:
			if g := c.got.Load(); g != seen {
				last, seen = now, g
			} else if now.Sub(last) >= c.idle {
				return last, nil
			}
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// countSink is a component that counts what arrives on "inbox" into c.
func countSink(c *counter) *axon.Component {
	return axon.New("CountSink", func(ctx context.Context, comp *axon.Component) error {
		return comp.Serve(ctx, func(_ context.Context, m any) error { return c.add(m) })
	})
}

// room waits until message number sent (from 0) may be sent, as pace
// does, and returns how many may then be sent without waiting: those
// that keep no more than natsWindow in flight.
func (c *counter) room(ctx context.Context, sent int) (int, error) {
	if err := c.pace(ctx, sent); err != nil {
		return 0, err
	}
	return natsWindow - int(int64(sent)-c.got.Load()), nil
}

// byteSource sends n copies of natsPayload, paced by got, then
// ProducerFinished. What the window lets it send after each wait is a
// burst it has ready, and it sends that burst in one Batch, as a
// producer with a burst ready does (burstSource); it waits for the
// window between bursts, outside Batch. The window is the same as the
// nats.go loop's, which paces before each message.
func byteSource(n int, got *counter) *axon.Component { return natsSource(n, got.room) }

// natsSource sends n copies of natsPayload, as many at a time as room
// says may be sent once message number sent (from 0) may, each burst in
// one Batch, then ProducerFinished.
func natsSource(n int, room func(ctx context.Context, sent int) (int, error)) *axon.Component {
	return axon.New("ByteSource", func(ctx context.Context, c *axon.Component) error {
		out := c.Out(axon.OutboxName)
		for sent := 0; sent < n; {
			k, err := room(ctx, sent)
			if err != nil {
				return err
			}
			k = min(k, n-sent)
			err = c.Batch(ctx, func(ctx context.Context) error {
				for range k {
					if err := out.Send(ctx, natsMessage); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			sent += k
		}
		return c.Finish(ctx)
	})
}

// natsSetup is one NATS contender's receiving side, set up and subscribed:
// publish sends n messages, got counts what arrived, stop tears it down.
type natsSetup struct {
	publish func(ctx context.Context) error
	got     *counter
	stop    func() error
}

type natsContender struct {
	name  string
	setup func(ctx context.Context, url string, n int) (natsSetup, error)
}

// quiet keeps nats.go from printing asynchronous errors (slow consumers);
// losses show in the delivered fraction.
var quiet = natsgo.ErrorHandler(func(*natsgo.Conn, *natsgo.Subscription, error) {})

// natsBackplane: Backplane(name, NATS(url)) with one SubscribeTo feeding
// a sink and one Pipeline(source, PublishTo). Its one connection both
// publishes and receives, so every message goes round through the server.
var natsBackplane = natsContender{"backplane", func(ctx context.Context, url string, n int) (natsSetup, error) {
	c := newCounter(n)
	return backplaneSetup(ctx, "natsbench", natsbackplane.NATS(url, natsbackplane.NATSOptions(quiet)), nil, c, byteSource(n, c))
}}

// backplaneSetup starts a Backplane given opt, with a name made from
// prefix, and a SubscribeTo given subOpts feeding a sink that counts into
// c, and returns, once it has joined, the set-up whose publish runs
// Pipeline(source, PublishTo).
func backplaneSetup(ctx context.Context, prefix string, opt backplane.Option, subOpts []backplane.Option, c *counter, source *axon.Component) (natsSetup, error) {
	name := backplaneName(prefix)
	hb := axon.Start(ctx, backplane.Backplane(name, opt))
	sub := backplane.SubscribeTo(name, append([]backplane.Option{backplane.Wait(10 * time.Second)}, subOpts...)...)
	hs := axon.Start(ctx, chassis.Pipeline(sub, countSink(c)))
	stop := func() error {
		hs.Stop()
		hb.Stop()
		return errors.Join(endWait(hs), endWait(hb))
	}
	select {
	case <-sub.Joined():
	case <-hs.Done():
		return natsSetup{}, errors.Join(errors.New("subscriber ended before joining"), stop())
	case <-ctx.Done():
		return natsSetup{}, errors.Join(ctx.Err(), stop())
	}
	return natsSetup{
		publish: func(ctx context.Context) error {
			return axon.Run(ctx, chassis.Pipeline(source, backplane.PublishTo(name)))
		},
		got:  c,
		stop: stop,
	}, nil
}

// natsComponents: Pipeline(source, nats.Publisher) on one connection,
// Pipeline(nats.Subscriber, sink) on another.
var natsComponents = natsContender{"components", func(ctx context.Context, url string, n int) (natsSetup, error) {
	subject := backplaneName("natsbench.components")
	ncPub, err := natsgo.Connect(url, quiet)
	if err != nil {
		return natsSetup{}, err
	}
	sub := nats.Subscriber(subject, nats.Connect(url), nats.NATSOptions(quiet))
	c := newCounter(n)
	hs := axon.Start(ctx, chassis.Pipeline(sub, countSink(c)))
	stop := func() error {
		hs.Stop()
		ncPub.Close()
		return endWait(hs)
	}
	select {
	case <-sub.Subscribed():
	case <-hs.Done():
		return natsSetup{}, errors.Join(errors.New("subscriber ended before subscribing"), stop())
	case <-ctx.Done():
		return natsSetup{}, errors.Join(ctx.Err(), stop())
	}
	return natsSetup{
		publish: func(ctx context.Context) error {
			return axon.Run(ctx, chassis.Pipeline(byteSource(n, c), nats.Publisher(subject, nats.Conn(ncPub))))
		},
		got:  c,
		stop: stop,
	}, nil
}}

// twoConns connects twice to url: a subscribing and a publishing
// connection, as two processes would have.
func twoConns(url string) (sub, pub *natsgo.Conn, err error) {
	if sub, err = natsgo.Connect(url, quiet); err != nil {
		return nil, nil, err
	}
	if pub, err = natsgo.Connect(url, quiet); err != nil {
		sub.Close()
		return nil, nil, err
	}
	return sub, pub, nil
}

// subscribeLimited subscribes handle to subject on nc with the pending
// limit of the Subscriber component's channel (nats.DefaultBuffer
// messages), and waits until the server has the subscription.
func subscribeLimited(nc *natsgo.Conn, subject string, handle natsgo.MsgHandler) error {
	sub, err := nc.Subscribe(subject, handle)
	if err == nil {
		err = sub.SetPendingLimits(nats.DefaultBuffer, -1)
	}
	if err == nil {
		err = nc.Flush()
	}
	return err
}

// natsDirect: nats.go alone. An nc.Publish loop on one connection; on
// another, nc.Subscribe with a handler that counts each message (nats.go's
// own delivery goroutine calls it), its pending limit set to the
// nats.DefaultBuffer messages that the Subscriber component's channel
// holds, so the two drop at the same point. A handler measured faster here
// than ChanSubscribe with a goroutine draining the channel (which this
// contender used at first), so it is the harder baseline.
var natsDirect = natsContender{"nats.go", func(ctx context.Context, url string, n int) (natsSetup, error) {
	subject := backplaneName("natsbench.direct")
	ncSub, ncPub, err := twoConns(url)
	if err != nil {
		return natsSetup{}, err
	}
	c := newCounter(n)
	var recvErr atomic.Pointer[error]
	stop := func() error {
		ncSub.Close()
		ncPub.Close()
		if p := recvErr.Load(); p != nil {
			return *p
		}
		return nil
	}
	err = subscribeLimited(ncSub, subject, func(m *natsgo.Msg) {
		if err := c.add(m.Data); err != nil {
			recvErr.CompareAndSwap(nil, &err)
		}
	})
	if err != nil {
		return natsSetup{}, errors.Join(err, stop())
	}
	return natsSetup{
		publish: func(ctx context.Context) error {
			for i := range n {
				if err := c.pace(ctx, i); err != nil {
					return err
				}
				if err := ncPub.Publish(subject, natsPayload); err != nil {
					return err
				}
			}
			return ncPub.Flush()
		},
		got:  c,
		stop: stop,
	}, nil
}}

// natsDirectHops: nats.go with the two hand-overs that using components
// adds, written by hand: a source goroutine sends each payload on a
// channel to the goroutine that publishes it, and the subscription's
// handler sends each payload on a channel to a counting goroutine (both
// channels of the framework's default capacity, sends tried at once and
// otherwise waiting in a select that also watches for the end). It is not
// the target's baseline, which is natsDirect: it shows how much of the gap
// between the components and nats.go those two hand-overs make, and so
// how much is left to the components themselves.
var natsDirectHops = natsContender{"nats.go+2 channels", func(ctx context.Context, url string, n int) (natsSetup, error) {
	subject := backplaneName("natsbench.hops")
	ncSub, ncPub, err := twoConns(url)
	if err != nil {
		return natsSetup{}, err
	}
	c := newCounter(n)
	quit := make(chan struct{})
	send := func(ch chan<- any, m any) bool {
		select {
		case ch <- m:
			return true
		default:
		}
		select {
		case ch <- m:
			return true
		case <-quit:
			return false
		}
	}
	received := make(chan any, axon.DefaultCapacity)
	var wg sync.WaitGroup
	var recvErr error
	wg.Go(func() {
		for {
			select {
			case m := <-received:
				if recvErr = c.add(m); recvErr != nil {
					return
				}
			case <-quit:
				return
			}
		}
	})
	stop := func() error {
		ncSub.Close()
		ncPub.Close()
		close(quit)
		wg.Wait()
		return recvErr
	}
	err = subscribeLimited(ncSub, subject, func(m *natsgo.Msg) { send(received, m.Data) })
	if err != nil {
		return natsSetup{}, errors.Join(err, stop())
	}
	return natsSetup{
		publish: func(ctx context.Context) error {
			toPublish := make(chan any, axon.DefaultCapacity)
			srcErr := make(chan error, 1)
			go func() {
				defer close(toPublish)
				for i := range n {
					if err := c.pace(ctx, i); err != nil {
						srcErr <- err
						return
					}
					if !send(toPublish, natsPayload) {
						break
					}
				}
				srcErr <- nil
			}()
			for m := range toPublish {
				if err := ncPub.Publish(subject, m.([]byte)); err != nil {
					return err
				}
			}
			return errors.Join(<-srcErr, ncPub.Flush())
		},
		got:  c,
		stop: stop,
	}, nil
}}

// natsResult is one timed NATS run.
type natsResult struct {
	rate      float64 // messages delivered per second
	delivered float64 // fraction of those published that arrived
}

// timeNATS sets c up (untimed), then times from the first publish until
// the last message arrived (or the last progress, if some were lost).
func timeNATS(ctx context.Context, c natsContender, url string, n int) (natsResult, error) {
	s, err := c.setup(ctx, url, n)
	if err != nil {
		return natsResult{}, fmt.Errorf("%s: setup: %w", c.name, err)
	}
	runtime.GC()
	start := time.Now()
	pubErr := make(chan error, 1)
	go func() { pubErr <- s.publish(ctx) }()
	end, err := s.got.wait(ctx)
	err = errors.Join(err, <-pubErr, s.stop())
	if err != nil {
		return natsResult{}, fmt.Errorf("%s: %w", c.name, err)
	}
	got := s.got.got.Load()
	return natsResult{rate: float64(got) / end.Sub(start).Seconds(), delivered: float64(got) / float64(n)}, nil
}

// compareNATS runs each contender once per round, order rotating, after
// a short warm-up of each; res[i][r] is contender i's result in round r.
func compareNATS(ctx context.Context, url string, rounds, n int, cs ...natsContender) ([][]natsResult, error) {
	for _, c := range cs {
		if _, err := timeNATS(ctx, c, url, n/10); err != nil {
			return nil, err
		}
	}
	return rotate(len(cs), rounds, func(i int) (natsResult, error) { return timeNATS(ctx, cs[i], url, n) })
}

// delivered is the lowest fraction delivered in any round.
func delivered(rs []natsResult) float64 {
	lo := 1.0
	for _, r := range rs {
		lo = min(lo, r.delivered)
	}
	return lo
}

// BenchmarkNATSBackplane sends 100,000 messages of 64 bytes through an
// embedded NATS server four ways in the same run: a Backplane with the
// NATS option (PublishTo in, SubscribeTo out), the nats Publisher and
// Subscriber components, nats.go used directly (the target's baseline),
// and nats.go with the two channel hand-overs that components add, by
// hand (natsDirectHops, for reference). Set-up (connections,
// subscriptions) is not timed; a run is timed from the first publish to
// the last message received. Every publisher is paced to keep at most
// natsWindow messages in flight (see natsWindow). Rounds rotate; rates are
// medians; ratios are medians of per-round ratios. Messages NATS drops
// (slow consumer) would not be counted: the lowest delivered fraction of
// any round is reported.
func BenchmarkNATSBackplane(b *testing.B) {
	srv := natstest.Server(b)
	res, err := compareNATS(context.Background(), srv.URL(), max(b.N, natsRounds), natsMsgs, natsBackplane, natsComponents, natsDirect, natsDirectHops)
	if err != nil {
		b.Fatal(err)
	}
	rates := ratesOf(res, func(r natsResult) float64 { return r.rate })
	bp, comp, direct, hops := rates.rate(0), rates.rate(1), rates.rate(2), rates.rate(3)
	ratioB, loB, hiB := rates.ratio(0, 2)
	ratioC, loC, hiC := rates.ratio(1, 2)
	ratioH, loH, hiH := rates.ratio(3, 2)
	ratioBH, _, _ := rates.ratio(0, 3)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(bp, "backplane-msgs/s")
	b.ReportMetric(comp, "components-msgs/s")
	b.ReportMetric(direct, "nats.go-msgs/s")
	b.ReportMetric(ratioB, "ratio-backplane")
	b.ReportMetric(ratioC, "ratio-components")
	b.ReportMetric(hops, "nats.go+2chans-msgs/s")
	report(b, "nats %d x %d B: nats.go+2 channels %s Mmsg/s (delivered >= %.3f), %.2f of nats.go (rounds %.2f..%.2f); backplane/(nats.go+2 channels) %.2f",
		natsMsgs, natsMsgSize, mega(hops), delivered(res[3]), ratioH, loH, hiH, ratioBH)
	report(b, "nats %d x %d B: backplane %s Mmsg/s (delivered >= %.3f), components %s Mmsg/s (delivered >= %.3f), nats.go %s Mmsg/s (delivered >= %.3f); backplane/nats.go %.2f (%d rounds %.2f..%.2f; target >= %.2f %s); components/nats.go %.2f (rounds %.2f..%.2f; %s)",
		natsMsgs, natsMsgSize, mega(bp), delivered(res[0]), mega(comp), delivered(res[1]), mega(direct), delivered(res[2]),
		ratioB, rates.n(), loB, hiB, natsTarget, verdict(ratioB, natsTarget), ratioC, loC, hiC, verdict(ratioC, natsTarget))
}

// ---- tests of these benchmarks' contenders ----

func TestFanoutDelivers(t *testing.T) {
	ctx := axontest.Context(t)
	for _, subs := range fanoutSubscribers {
		const n = 500
		for _, c := range fanoutContenders(subs) {
			got, err := c.run(ctx, n)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got != n {
				t.Fatalf("%s: the least-served subscriber saw %d messages, want %d", c.name, got, n)
			}
		}
	}
}

func TestNATSContendersDeliver(t *testing.T) {
	ctx := axontest.Context(t)
	srv := natstest.Server(t)
	// More messages than a subscription's buffer holds: the pacing must
	// keep NATS from dropping any.
	const n = 4 * nats.DefaultBuffer
	for _, c := range []natsContender{natsBackplane, natsComponents, natsDirect, natsDirectHops} {
		r, err := timeNATS(ctx, c, srv.URL(), n)
		if err != nil {
			t.Fatal(err)
		}
		if r.delivered != 1 {
			t.Fatalf("%s: delivered %.3f of the messages, want all", c.name, r.delivered)
		}
	}
}

func TestCounterRejectsWrongMessages(t *testing.T) {
	c := newCounter(2)
	if err := c.add("text"); err == nil {
		t.Fatal("a string was counted")
	}
	if err := c.add(make([]byte, natsMsgSize+1)); err == nil {
		t.Fatal("a payload of the wrong size was counted")
	}
	if err := c.add(natsPayload); err != nil {
		t.Fatal(err)
	}
	if got := c.got.Load(); got != 1 {
		t.Fatalf("counted %d, want 1", got)
	}
}
