package nats_test

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/nats"
	"github.com/kamaelia-go/kamaelia/components/nats/natstest"
)

func reconnecting(st *connState, extra ...natsgo.Option) []natsgo.Option {
	return append(append([]natsgo.Option{
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(10 * time.Millisecond),
	}, st.options()...), extra...)
}

// A Publisher and a Subscriber on one connection: what is published
// before, during (buffered) and after an outage all arrives, in order.
func TestRestartSharedConnectionKeepsBuffered(t *testing.T) {
	srv := natstest.Server(t)
	st := newConnState()
	nc, err := natsgo.Connect(srv.URL(), reconnecting(st)...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s := nats.Subscriber("t.restart", nats.Conn(nc))
	hs := start(t, s)
	subscribed(t, s)
	p := nats.Publisher("t.restart", nats.Conn(nc))
	hp := start(t, p)
	link(t, hp, nats.ErrorsBox)

	putInts(t, hp, 0, 100)
	equalInts(t, getInts(t, hs, 100), seq(0, 100))

	srv.Shutdown()
	waitFor(t, st.down, "disconnect")
	putInts(t, hp, 100, 200)
	eventually(t, "200 published", func() bool { return p.Stats().Published == 200 })
	srv.Start(t)
	waitFor(t, st.up, "reconnect")
	putInts(t, hp, 200, 300)

	equalInts(t, getInts(t, hs, 200), seq(100, 300))
	if e := p.Stats().Errors; e != 0 {
		t.Fatalf("%d publish errors", e)
	}
}

// Beyond the reconnect buffer, messages are refused with an error on
// "errors"; those that fitted arrive after the reconnect.
func TestRestartReconnectBufferExceeded(t *testing.T) {
	srv := natstest.Server(t)
	st := newConnState()
	nc, err := natsgo.Connect(srv.URL(), reconnecting(st, natsgo.ReconnectBufSize(1024))...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s := nats.Subscriber("t.buf", nats.Conn(nc))
	hs := start(t, s)
	subscribed(t, s)
	p := nats.Publisher("t.buf", nats.Conn(nc))
	hp := start(t, p)
	link(t, hp, nats.ErrorsBox)

	srv.Shutdown()
	waitFor(t, st.down, "disconnect")
	const n = 20
	pad := make([]byte, 100)
	for i := range n {
		put(t, hp, axon.InboxName, append([]byte(fmt.Sprintf("%03d", i)), pad...))
	}
	eventually(t, "all handled", func() bool { s := p.Stats(); return s.Published+s.Errors == n })
	ps := p.Stats()
	k := int(ps.Published)
	if k == 0 || k == n {
		t.Fatalf("%d of %d buffered; want some but not all with a 1 KiB buffer", k, n)
	}
	for range n - k {
		be, _ := asError(t, get(t, hp, nats.ErrorsBox), nats.ErrPublish)
		if !errors.Is(be, natsgo.ErrReconnectBufExceeded) || be.Op != "publish" {
			t.Fatalf("error %v", be)
		}
	}
	srv.Start(t)
	waitFor(t, st.up, "reconnect")
	put(t, hp, axon.InboxName, []byte("999"))

	var got []int
	for range k + 1 {
		b := get(t, hs, axon.OutboxName).([]byte)
		v, err := strconv.Atoi(string(b[:3]))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	equalInts(t, got, append(seq(0, k), 999))
}

// A Publisher and a Subscriber on different connections, as in two
// processes: everything before and after the outage arrives; of what was
// buffered during it, what arrives is in order (the publisher's
// connection may flush it before the subscriber's has subscribed again).
func TestRestartSeparateConnections(t *testing.T) {
	srv := natstest.Server(t)
	subState, pubState := newConnState(), newConnState()
	ncS, err := natsgo.Connect(srv.URL(), reconnecting(subState)...)
	if err != nil {
		t.Fatal(err)
	}
	defer ncS.Close()
	s := nats.Subscriber("t.sep", nats.Conn(ncS))
	hs := start(t, s)
	subscribed(t, s)
	p := nats.Publisher("t.sep", nats.Connect(srv.URL()), nats.NATSOptions(pubState.options()...))
	hp := start(t, p)

	putInts(t, hp, 0, 50)
	equalInts(t, getInts(t, hs, 50), seq(0, 50))

	srv.Shutdown()
	waitFor(t, subState.down, "subscriber disconnect")
	waitFor(t, pubState.down, "publisher disconnect")
	putInts(t, hp, 50, 100)
	eventually(t, "100 published", func() bool { return p.Stats().Published == 100 })
	srv.Start(t)
	waitFor(t, subState.up, "subscriber reconnect")
	waitFor(t, pubState.up, "publisher reconnect")
	// Once the server has answered a PING on the subscriber's
	// connection, it has processed the subscription sent again before it.
	if err := ncS.FlushTimeout(wait); err != nil {
		t.Fatal(err)
	}
	putInts(t, hp, 100, 150)

	var got []int
	for len(got) == 0 || got[len(got)-1] != 149 {
		got = append(got, getInts(t, hs, 1)...)
	}
	var buffered int
	for i, v := range got {
		if i > 0 && v <= got[i-1] {
			t.Fatalf("out of order: %v", got)
		}
		if v >= 50 && v < 100 {
			buffered++
		}
	}
	if len(got) != 50+buffered {
		t.Fatalf("missing messages sent after the restart: %v", got)
	}
	t.Logf("%d of the 50 messages buffered during the outage arrived", buffered)
}
