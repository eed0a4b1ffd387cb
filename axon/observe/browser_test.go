package observe_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/observe"
	"github.com/kamaelia-go/kamaelia/chassis"
)

var screenshot = flag.String("screenshot", "", "where TestLivePageInBrowser saves its screenshot (PNG); a temporary file if empty")

// Paths of the browser test's graph.
const (
	slowPath  = "Graphline/pipeline/2:Slow"
	childPath = "Graphline/carousel/child"
)

// slowGraph is a Graphline of a Pipeline whose second stage is slow, fed
// by a source as fast as it can go, and a Carousel whose children start
// on its "next" (passed through from the Graphline's) and end when
// endChild is closed.
func slowGraph(endChild <-chan struct{}) *axon.Component {
	source := axon.New("Source", func(ctx context.Context, c *axon.Component) error {
		return c.Batch(ctx, func(ctx context.Context) error {
			for i := 0; ; i++ {
				if err := c.Send(ctx, axon.OutboxName, i); err != nil {
					return err
				}
			}
		})
	})
	pass := func(name string, d time.Duration) *axon.Component {
		return axon.New(name, func(ctx context.Context, c *axon.Component) error {
			return c.Serve(ctx, func(ctx context.Context, m any) error {
				if d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				return c.Send(ctx, axon.OutboxName, m)
			})
		})
	}
	sink := axon.New("Sink", func(ctx context.Context, c *axon.Component) error {
		return c.Serve(ctx, func(context.Context, any) error { return nil })
	})
	worker := func(any) axon.Node {
		return axon.New("Worker", func(ctx context.Context, c *axon.Component) error {
			select {
			case <-endChild:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}
	return chassis.Graphline(chassis.Nodes{
		"pipeline": chassis.Pipeline(source, pass("Slow", 20*time.Millisecond), pass("Fast", 0), sink),
		"carousel": chassis.Carousel(worker),
	}, chassis.Links{
		{chassis.Self, chassis.NextName}: {"carousel", chassis.NextName},
	})
}

// chromium finds Debian's chromium (or another Chrome) on PATH.
func chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on PATH")
}

// TestLivePageInBrowser opens the live page of a running graph in
// headless chromium and reads the page's DOM: the slow stage's inbox
// shows red (full) within 2 s and no other inbox does; a Carousel child
// started at run time appears, and goes once it has ended. It saves a
// screenshot (see -screenshot).
func TestLivePageInBrowser(t *testing.T) {
	exe, err := chromium()
	if err != nil {
		t.Skipf("skipping the browser test: %v (make browser installs Debian's chromium)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	endChild := make(chan struct{})
	g := slowGraph(endChild)
	h := axon.Start(ctx, g)
	defer func() {
		h.Stop()
		if err := h.Wait(); err != nil {
			t.Error(err)
		}
	}()
	srv, err := observe.Listen(ctx, "127.0.0.1:0", g)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1280, 720))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Skipf("skipping the browser test: chromium (%s) cannot run here: %v", exe, err)
	}
	opened := time.Now()
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL())); err != nil {
		t.Fatal(err)
	}

	// levels reads every inbox's fill level from the page, by owner path
	// and box name.
	levels := func() map[string]string {
		t.Helper()
		js, err := chromedp.Run(bctx, chromedp.Evaluate[string](`JSON.stringify(Object.fromEntries(
			[...document.querySelectorAll(".box")].map(b => [b.dataset.owner + "." + b.dataset.box, b.dataset.level])))`))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	exists := func(path string) bool {
		t.Helper()
		ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(`.comp[data-path="`+path+`"]`)+`) !== null`))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	waitFor := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("after %v: %s; page shows %v", limit, what, levels())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	slowInbox := slowPath + ".inbox"
	waitFor("the slow stage's inbox shown full", 2*time.Second-time.Since(opened), func() bool { return levels()[slowInbox] == observe.LevelRed })
	t.Logf("slow stage's inbox red %v after the page was opened", time.Since(opened).Round(time.Millisecond))
	seen := levels()
	if len(seen) < 8 {
		t.Errorf("only %d inboxes on the page: %v", len(seen), seen)
	}
	for box, level := range seen {
		if box != slowInbox && level == observe.LevelRed {
			t.Errorf("%s shown %s; only %s should be full", box, level, slowInbox)
		}
	}

	if err := h.Put(ctx, chassis.NextName, "job"); err != nil {
		t.Fatal(err)
	}
	waitFor("the Carousel's child shown", 5*time.Second, func() bool { return exists(childPath) })
	shot := *screenshot
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "live-page.png")
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot saved to %s", shot)

	close(endChild)
	waitFor("the ended child gone from the page", 5*time.Second, func() bool { return !exists(childPath) })
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
