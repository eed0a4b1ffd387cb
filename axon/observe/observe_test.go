package observe_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/axon/observe"
	"github.com/kamaelia-go/kamaelia/chassis"
)

// heldGraph is Pipeline(Fast, Held): Held's 5-slot inbox is filled by
// the test and read only once release is closed.
func heldGraph(release <-chan struct{}) (*axon.Component, *axon.Component) {
	fast := axon.New("Fast", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(ctx context.Context, m any) error { return c.Send(ctx, axon.OutboxName, m) })
	})
	held := axon.New("Held", func(ctx context.Context, c *axon.Component) error {
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return c.Serve(ctx, func(context.Context, any) error { return nil })
	}, axon.WithInbox(axon.InboxName, "read once released", axon.Capacity(5)))
	return chassis.Pipeline(fast, held), held
}

func TestLevel(t *testing.T) {
	for _, c := range []struct {
		q, c int
		want string
	}{{0, 64, "green"}, {60, 100, "green"}, {61, 100, "yellow"}, {85, 100, "yellow"}, {86, 100, "red"}, {5, 5, "red"}, {0, 0, "green"}} {
		if got := observe.Level(c.q, c.c); got != c.want {
			t.Errorf("Level(%d, %d) = %s, want %s", c.q, c.c, got, c.want)
		}
	}
}

// TestCollector: the metrics pass Prometheus's lint, are labelled by
// path and box, and say what the graph holds.
func TestCollector(t *testing.T) {
	ctx := axontest.Context(t)
	release := make(chan struct{})
	g, _ := heldGraph(release)
	h := axontest.Start(t, ctx, g)
	for i := range 5 {
		if err := h.Put(ctx, axon.InboxName, i); err != nil {
			t.Fatal(err)
		}
	}
	c := observe.NewCollector(g)
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	// Fast has passed the five on; Held holds them, full.
	want := `
# HELP kamaelia_inbox_queued_messages Messages waiting in the inbox now.
# TYPE kamaelia_inbox_queued_messages gauge
kamaelia_inbox_queued_messages{box="control",path="Pipeline/1:Fast"} 0
kamaelia_inbox_queued_messages{box="control",path="Pipeline/2:Held"} 0
kamaelia_inbox_queued_messages{box="inbox",path="Pipeline/1:Fast"} 0
kamaelia_inbox_queued_messages{box="inbox",path="Pipeline/2:Held"} 5
`
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := testutil.CollectAndCompare(c, strings.NewReader(want), "kamaelia_inbox_queued_messages")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	wantArrived := `
# HELP kamaelia_inbox_arrived_messages_total Messages put into the inbox.
# TYPE kamaelia_inbox_arrived_messages_total counter
kamaelia_inbox_arrived_messages_total{box="control",path="Pipeline/1:Fast"} 0
kamaelia_inbox_arrived_messages_total{box="control",path="Pipeline/2:Held"} 0
kamaelia_inbox_arrived_messages_total{box="inbox",path="Pipeline/1:Fast"} 5
kamaelia_inbox_arrived_messages_total{box="inbox",path="Pipeline/2:Held"} 5
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(wantArrived), "kamaelia_inbox_arrived_messages_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c, "kamaelia_component_state"); n != 3*4 {
		t.Errorf("%d state series, want 4 for each of 3 components", n)
	}
}

// TestListenServesPageEventsAndMetrics talks to the live page over
// loopback: the page and its script are served, /metrics has the
// graph's metrics, and /events streams frames in which the held box
// shows red.
func TestListenServesPageEventsAndMetrics(t *testing.T) {
	ctx := axontest.Context(t)
	release := make(chan struct{})
	g, _ := heldGraph(release)
	h := axontest.Start(t, ctx, g)
	srv, err := observe.Listen(ctx, "127.0.0.1:0", g)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(srv.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return string(b)
	}
	if page := get(""); !strings.Contains(page, `<script src="app.js">`) || strings.Contains(page, "://") {
		t.Errorf("page does not load app.js, or fetches from elsewhere:\n%s", page)
	}
	if js := get("app.js"); !strings.Contains(js, "EventSource") {
		t.Error("app.js does not listen for events")
	}
	if m := get("metrics"); !strings.Contains(m, `kamaelia_inbox_capacity_messages{box="inbox",path="Pipeline/2:Held"} 5`) {
		t.Errorf("metrics lack Held's capacity:\n%s", m)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	// held reads frames until one shows Held's inbox holding q messages,
	// and returns its fill level.
	held := func(q int, within time.Duration) string {
		t.Helper()
		deadline := time.Now().Add(within)
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var f struct {
				Components []struct {
					Path    string
					Inboxes []struct {
						Name   string
						Queued int
						Level  string
					}
				}
			}
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				t.Fatal(err)
			}
			for _, c := range f.Components {
				for _, b := range c.Inboxes {
					if c.Path == "Pipeline/2:Held" && b.Name == "inbox" && b.Queued == q {
						return b.Level
					}
				}
			}
			if time.Now().After(deadline) {
				break
			}
		}
		t.Fatalf("no frame within %v showed Held's inbox holding %d (%v)", within, q, sc.Err())
		return ""
	}
	if l := held(0, time.Second); l != observe.LevelGreen {
		t.Errorf("empty box shown %s", l)
	}
	for i := range 5 {
		if err := h.Put(ctx, axon.InboxName, i); err != nil {
			t.Fatal(err)
		}
	}
	// Pushed without asking again, within the page's 2 s budget.
	if l := held(5, 2*time.Second); l != observe.LevelRed {
		t.Errorf("full box shown %s", l)
	}
}

// TestHandlerOfEndedWatch: a Handler whose context has already ended
// still serves its page and an empty frame, rather than failing.
func TestHandlerOfEndedWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv := httptest.NewServer(observe.Handler(ctx, axon.New("Idle", nil)))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/graph.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f struct{ Components []any }
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("graph.json: %d %v", resp.StatusCode, err)
	}
}

// TestShutdownOrdered: Shutdown with a page open ends its event stream,
// stops the server and its watch, and returns within its deadline,
// leaving no goroutine behind; the address is free again.
func TestShutdownOrdered(t *testing.T) {
	for _, c := range []struct {
		name  string
		grace time.Duration // 0: a context already ended
	}{{"grace", 5 * time.Second}, {"ended", 0}} {
		t.Run(c.name, func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			ctx := axontest.Context(t)
			release := make(chan struct{})
			defer close(release)
			g, _ := heldGraph(release)
			srv, err := observe.Listen(ctx, "127.0.0.1:0", g)
			if err != nil {
				t.Fatal(err)
			}
			tr := &http.Transport{}
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL() + "events")
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() && !strings.HasPrefix(sc.Text(), "data: ") {
			}
			sctx, cancel := context.WithTimeout(context.Background(), c.grace)
			defer cancel()
			start := time.Now()
			err = srv.Shutdown(sctx)
			if took := time.Since(start); took > c.grace+time.Second {
				t.Errorf("Shutdown took %v, given %v", took, c.grace)
			}
			if c.grace > 0 && err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err2 := srv.Close(); !errors.Is(err2, err) && err2 != err {
				t.Errorf("Close after Shutdown: %v, want %v", err2, err)
			}
			for sc.Scan() {
			}
			resp.Body.Close()
			tr.CloseIdleConnections()
			ln, err := net.Listen("tcp", srv.Addr().String())
			if err != nil {
				t.Fatalf("address still taken: %v", err)
			}
			ln.Close()
			goleak.VerifyNone(t, before)
		})
	}
}
