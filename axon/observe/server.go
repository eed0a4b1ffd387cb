package observe

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kamaelia-go/kamaelia/axon"
)

//go:embed web
var webFiles embed.FS

// Period is how often the page's figures are refreshed: a Watch sample
// every Period, and a frame to every open page after each one and after
// each change to the graph.
const Period = 250 * time.Millisecond

// logSize is how many recent events the page lists.
const logSize = 40

// Handler serves the live page of the graph beneath n at "/", its frames
// as server-sent events at "/events", the same as JSON once at
// "/graph.json", and the graph's Prometheus metrics at "/metrics". It
// watches the graph until ctx ends; the page then stops updating.
func Handler(ctx context.Context, n axon.Node) http.Handler {
	h := newHub(ctx, n)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(n))
	mux := http.NewServeMux()
	static, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	mux.Handle("GET /", http.FileServerFS(static))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /events", h.serveEvents)
	mux.HandleFunc("GET /graph.json", h.serveFrame)
	return mux
}

// Server is a live page served on a listener of its own (see Listen).
type Server struct {
	ln     net.Listener
	srv    *http.Server
	cancel context.CancelFunc
	done   chan error
}

// Listen serves Handler(ctx, n) on addr (host:port; port 0 picks one)
// until ctx ends or Close is called. It returns once the address is
// bound, so that a port already taken is reported at once.
func Listen(ctx context.Context, addr string, n axon.Node) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Server{ln: ln, cancel: cancel, done: make(chan error, 1)}
	s.srv = &http.Server{
		Handler:           Handler(ctx, n),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	context.AfterFunc(ctx, func() {
		sctx, scancel := context.WithTimeout(context.Background(), time.Second)
		defer scancel()
		if err := s.srv.Shutdown(sctx); err != nil {
			_ = s.srv.Close() // event streams still open past the grace period
		}
	})
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the page's address, "http://host:port/".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Close stops the server and waits until it has stopped.
func (s *Server) Close() error {
	s.cancel()
	err := <-s.done
	s.done <- err // a second Close returns the same
	if err != nil {
		return fmt.Errorf("observe: %w", err)
	}
	return nil
}

// hub keeps the latest frame of one graph and hands it to every page.
type hub struct {
	ctx  context.Context
	root axon.Node

	mu    sync.Mutex
	frame []byte        // the latest frame, JSON
	fresh chan struct{} // closed and replaced when a new frame is made
}

func newHub(ctx context.Context, n axon.Node) *hub {
	h := &hub{ctx: ctx, root: n, fresh: make(chan struct{})}
	v := newView()
	events := axon.Watch(ctx, n, Period)
	// The snapshot, so that the first frame is ready at once; none if
	// ctx has ended already.
	if e, ok := <-events; ok {
		v.apply(e)
	}
	h.publish(v)
	go h.run(v, events)
	return h
}

// run turns the graph's events into frames until the watch ends.
func (h *hub) run(v *view, events <-chan axon.Event) {
	for e := range events {
		v.apply(e)
		// Publish once the events that came together are applied.
		for more := true; more; {
			select {
			case e, ok := <-events:
				if !ok {
					h.publish(v)
					return
				}
				v.apply(e)
			default:
				more = false
			}
		}
		h.publish(v)
	}
}

func (h *hub) publish(v *view) {
	b, err := json.Marshal(v.frame(h.root))
	if err != nil {
		slog.Error("observe: frame", "err", err)
		return
	}
	h.mu.Lock()
	h.frame = b
	close(h.fresh)
	h.fresh = make(chan struct{})
	h.mu.Unlock()
}

func (h *hub) latest() ([]byte, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.frame, h.fresh
}

func (h *hub) serveFrame(w http.ResponseWriter, _ *http.Request) {
	b, _ := h.latest()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// serveEvents streams every frame to one page, the latest first, until
// the page goes or the graph's watch ends. A page slower than the frames
// skips to the newest.
func (h *hub) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	for {
		b, fresh := h.latest()
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return
		}
		fl.Flush()
		select {
		case <-fresh:
		case <-r.Context().Done():
			return
		case <-h.ctx.Done():
			return
		}
	}
}
