package observe

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
)

// busyGraph changes all the time: a child added, run and removed over
// and over, each sending a message on.
func busyGraph() *axon.Component {
	return axon.New("Busy", func(ctx context.Context, c *axon.Component) error {
		for ctx.Err() == nil {
			k := axon.New("Blip", func(ctx context.Context, k *axon.Component) error {
				return k.Send(ctx, axon.OutboxName, 1)
			})
			if err := c.AddChild(k); err != nil {
				return err
			}
			if err := axon.Link(k, axon.OutboxName, c, axon.InboxName); err != nil {
				return err
			}
			select {
			case <-c.In(axon.InboxName):
			case <-ctx.Done():
			}
			select {
			case <-k.Done():
			case <-ctx.Done():
			}
			if err := c.RemoveChild(k); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
}

// subscribers returns how many pages h counts.
func (h *hub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subs
}

// TestHubIdleWithoutPages: over a graph that changes all the time, the
// hub makes no frame while no page is open; it makes them while one is,
// and stops again once the page has gone.
func TestHubIdleWithoutPages(t *testing.T) {
	ctx := axontest.Context(t)
	g := busyGraph()
	axontest.Start(t, ctx, g)
	hctx, cancel := context.WithCancel(ctx)
	h := newHub(hctx, g)
	defer func() {
		cancel()
		h.wait()
	}()
	time.Sleep(4 * Period)
	if n := h.frames.Load(); n != 0 {
		t.Fatalf("%d frames made with no page open, want 0", n)
	}

	srv := httptest.NewServer(handler(h, g))
	defer srv.Close()
	rctx, leave := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, srv.URL+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for got := 0; got < 3 && sc.Scan(); {
		if strings.HasPrefix(sc.Text(), "data: ") {
			got++
		}
	}
	if n := h.frames.Load(); n < 3 {
		t.Fatalf("%d frames made with a page open, want at least the 3 it read (%v)", n, sc.Err())
	}
	leave()
	resp.Body.Close()
	for h.subscribers() != 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the page never left")
		case <-time.After(time.Millisecond):
		}
	}
	time.Sleep(Period) // a frame under way when it left may still be made
	before := h.frames.Load()
	time.Sleep(4 * Period)
	if n := h.frames.Load(); n != before {
		t.Errorf("%d frames made after the page left, want 0", n-before)
	}
}
