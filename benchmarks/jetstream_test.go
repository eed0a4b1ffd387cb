package benchmarks

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/components/nats"
	"github.com/kamaelia-go/kamaelia/components/nats/natsbackplane"
	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
)

// ---- NATS JetStream ----

// jsMsgs is how many messages of natsMsgSize bytes a JetStream run sends.
const jsMsgs = 50_000

// jsRounds is how many rounds the JetStream comparison runs: twice the
// core NATS benchmark's, since the server's store pauses make single
// rounds vary more.
const jsRounds = 2 * natsRounds

// jsIdleWait ends a JetStream run that has made no progress for this
// long. JetStream loses nothing, so a run only ends early if something
// is wrong; but the server's store can pause for a while under load, and
// a run that paused should be timed to its end, pause included.
const jsIdleWait = 10 * time.Second

// jsCounter is a counter for a JetStream run.
func jsCounter(n int) *counter {
	c := newCounter(n)
	c.idle = jsIdleWait
	return c
}

// burstSize is how many messages jsSource sends in one Batch.
const burstSize = 64

// jsSource sends n copies of natsPayload, a burst of burstSize at a
// time, then ProducerFinished. JetStream needs no pacing: nothing is
// dropped, and each publisher bounds what awaits acknowledgements itself.
func jsSource(n int) *axon.Component {
	return natsSource(n, func(context.Context, int) (int, error) { return burstSize, nil })
}

// jsBackplane: Backplane(name, JetStream(url)) with one SubscribeTo (a
// durable consumer) feeding a sink and one Pipeline(source, PublishTo).
// Its one connection both publishes and consumes.
var jsBackplane = natsContender{"jetstream backplane", func(ctx context.Context, url string, n int) (natsSetup, error) {
	return backplaneSetup(ctx, "jsbench", natsbackplane.JetStream(url, natsbackplane.NATSOptions(quiet)),
		[]backplane.Option{backplane.Durable("bench")}, jsCounter(n), jsSource(n))
}}

// jsDirect: nats.go's jetstream package used by hand, with the same
// guarantees: a stream made as the Backplane makes its own; a publish
// loop giving each message a Nats-Msg-Id, with at most
// nats.DefaultAckWindow awaiting acknowledgements (PublishMsgAsync with
// that max-pending bound), then waiting for them all; on another
// connection, a durable consumer read with Consume, its handler counting
// and acknowledging each message, with the Backplane's consumer limits.
var jsDirect = natsContender{"jetstream nats.go", func(ctx context.Context, url string, n int) (natsSetup, error) {
	name := backplaneName("jsbench.direct")
	stream, subject := nats.StreamName(name), nats.Subject(name)
	ncSub, ncPub, err := twoConns(url)
	if err != nil {
		return natsSetup{}, err
	}
	c := jsCounter(n)
	var recvErr atomic.Pointer[error]
	var cc jetstream.ConsumeContext
	stop := func() error {
		if cc != nil {
			cc.Stop()
			<-cc.Closed()
		}
		ncSub.Close()
		ncPub.Close()
		if p := recvErr.Load(); p != nil {
			return *p
		}
		return nil
	}
	jsSub, err := jetstream.New(ncSub)
	if err == nil {
		_, err = nats.EnsureStream(ctx, slog.Default(), nil, jsSub, stream, subject)
	}
	var cons jetstream.Consumer
	if err == nil {
		cons, err = jsSub.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
			Durable:       "bench",
			DeliverPolicy: jetstream.DeliverNewPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			MaxAckPending: 2048,
		})
	}
	if err == nil {
		cc, err = cons.Consume(func(m jetstream.Msg) {
			err := c.add(m.Data())
			if err == nil {
				err = m.Ack()
			}
			if err != nil {
				recvErr.CompareAndSwap(nil, &err)
			}
		}, jetstream.PullMaxMessages(1024))
	}
	if err != nil {
		return natsSetup{}, errors.Join(err, stop())
	}
	jsPub, err := jetstream.New(ncPub, jetstream.WithPublishAsyncMaxPending(nats.DefaultAckWindow))
	if err != nil {
		return natsSetup{}, errors.Join(err, stop())
	}
	return natsSetup{
		publish: func(ctx context.Context) error {
			for i := range n {
				m := &natsgo.Msg{Subject: subject, Data: natsPayload,
					Header: natsgo.Header{jetstream.MsgIDHeader: []string{"p." + strconv.Itoa(i)}}}
				_, err := jsPub.PublishMsgAsync(m)
				for errors.Is(err, jetstream.ErrTooManyStalledMsgs) && ctx.Err() == nil {
					_, err = jsPub.PublishMsgAsync(m) // the window stayed full for a while
				}
				if err != nil {
					return err
				}
			}
			select {
			case <-jsPub.PublishAsyncComplete():
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		got:  c,
		stop: stop,
	}, nil
}}

// BenchmarkJetStreamBackplane sends 50,000 messages of 64 bytes through
// an embedded NATS server with JetStream (file storage in a temporary
// directory) two ways in the same run: a Backplane with the JetStream
// option (PublishTo in, SubscribeTo with a durable consumer out), and
// nats.go's jetstream package by hand with the same guarantees (jsDirect).
// Each run has a stream of its own; set-up is not timed; a run is timed
// from the first publish to the last message received. There are
// jsRounds rounds (or -benchtime's count, if more), rotating;
// rates are medians; the ratio is the median of per-round ratios.
func BenchmarkJetStreamBackplane(b *testing.B) {
	srv := natstest.Server(b, natstest.JetStream(b.TempDir()))
	res, err := compareNATS(context.Background(), srv.URL(), max(b.N, jsRounds), jsMsgs, jsBackplane, jsDirect)
	if err != nil {
		b.Fatal(err)
	}
	rates := ratesOf(res, func(r natsResult) float64 { return r.rate })
	bp, direct := rates.rate(0), rates.rate(1)
	ratio, lo, hi := rates.ratio(0, 1)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(bp, "backplane-msgs/s")
	b.ReportMetric(direct, "nats.go-msgs/s")
	b.ReportMetric(ratio, "ratio-backplane")
	report(b, "jetstream %d x %d B: backplane %.1f kmsg/s (delivered >= %.3f), nats.go jetstream %.1f kmsg/s (delivered >= %.3f); backplane/nats.go %.2f (%d rounds %.2f..%.2f; target >= %.2f %s)",
		jsMsgs, natsMsgSize, bp/1e3, delivered(res[0]), direct/1e3, delivered(res[1]),
		ratio, rates.n(), lo, hi, natsTarget, verdict(ratio, natsTarget))
}

func TestJetStreamContendersDeliver(t *testing.T) {
	ctx := axontest.Context(t)
	srv := natstest.Server(t, natstest.JetStream(t.TempDir()))
	const n = 3000
	for _, c := range []natsContender{jsBackplane, jsDirect} {
		r, err := timeNATS(ctx, c, srv.URL(), n)
		if err != nil {
			t.Fatal(err)
		}
		if r.delivered != 1 {
			t.Fatalf("%s: delivered %.3f of the messages, want all", c.name, r.delivered)
		}
	}
}
