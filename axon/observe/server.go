package observe

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
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
// watches the graph while a page is open, until ctx ends; the page then
// stops updating. With no page open it does no work: nothing is watched,
// and a frame is made only when "/graph.json" asks for one.
func Handler(ctx context.Context, n axon.Node) http.Handler {
	return handler(newHub(ctx, n), n)
}

// handler is Handler serving h's frames.
func handler(h *hub, n axon.Node) http.Handler {
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
	ln       net.Listener
	srv      *http.Server
	hub      *hub
	cancel   context.CancelFunc // ends the page's context: event streams and the watch
	stopFunc func() bool        // stops the shutdown that Listen's ctx would start
	served   chan error         // Serve's error, once it has returned

	once sync.Once
	err  error // Shutdown's
}

// closeGrace is how long Close lets requests under way finish.
const closeGrace = time.Second

// Listen serves Handler(ctx, n) on addr (host:port; port 0 picks one)
// until ctx ends or Close or Shutdown is called. It returns once the
// address is bound, so that a port already taken is reported at once.
func Listen(ctx context.Context, addr string, n axon.Node) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	pctx, cancel := context.WithCancel(ctx)
	s := &Server{ln: ln, hub: newHub(pctx, n), cancel: cancel, served: make(chan error, 1)}
	s.srv = &http.Server{
		Handler:           handler(s.hub, n),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return pctx },
	}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.served <- err
	}()
	s.stopFunc = context.AfterFunc(ctx, func() { _ = s.Close() })
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// URL returns the page's address, "http://host:port/".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Shutdown stops the server in order: it stops listening, ends the event
// streams of the pages open and the watch of the graph, lets the
// requests under way finish until ctx ends, then closes the connections
// still open. It returns once the server and its goroutines have all
// stopped. Further calls return the same.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopFunc() // if ctx has not started a shutdown, it need not
	s.once.Do(func() {
		s.cancel()
		err := s.srv.Shutdown(ctx)
		if err != nil {
			err = errors.Join(err, s.srv.Close()) // requests still under way when ctx ended
		}
		err = errors.Join(<-s.served, err)
		s.hub.wait()
		if err != nil {
			s.err = fmt.Errorf("observe: %w", err)
		}
	})
	return s.err
}

// Close is Shutdown giving requests under way a second to finish.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	return s.Shutdown(ctx)
}

// hub keeps the latest frame of one graph and hands it to every page. It
// watches the graph only while a page is open: the first to subscribe
// starts a Watch, the last to leave ends it.
type hub struct {
	ctx  context.Context
	root axon.Node

	mu     sync.Mutex
	subs   int                // pages open
	gen    int                // the current watch's number: frames of an earlier one are dropped
	stop   context.CancelFunc // ends the current watch; nil while none runs
	closed bool               // wait has been called: no more watches
	frame  []byte             // the latest frame, JSON; nil while no watch has made one
	fresh  chan struct{}      // closed and replaced when a new frame is made
	runs   sync.WaitGroup     // the watches' goroutines

	frames atomic.Uint64 // frames made, all told
}

func newHub(ctx context.Context, n axon.Node) *hub {
	return &hub{ctx: ctx, root: n, fresh: make(chan struct{})}
}

// subscribe counts a page in, and starts watching the graph for the
// first.
func (h *hub) subscribe() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs++
	if h.stop != nil || h.closed || h.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(h.ctx)
	h.stop = cancel
	h.gen++
	events := axon.Watch(ctx, h.root, Period)
	h.runs.Add(1)
	go h.run(h.gen, events)
}

// unsubscribe counts a page out, and stops watching with the last.
func (h *hub) unsubscribe() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs--
	if h.subs == 0 && h.stop != nil {
		h.stop()
		h.stop = nil
		h.gen++ // the frames of the watch stopped are let go
		h.frame = nil
	}
}

// wait waits until the watches have stopped: h.ctx has ended, or every
// page has gone.
func (h *hub) wait() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.runs.Wait()
}

// run turns the events of watch gen into frames until the watch ends.
func (h *hub) run(gen int, events <-chan axon.Event) {
	defer h.runs.Done()
	v := newView()
	for e := range events {
		v.apply(e)
		// Publish once the events that came together are applied.
		for more := true; more; {
			select {
			case e, ok := <-events:
				if !ok {
					h.publish(gen, v)
					return
				}
				v.apply(e)
			default:
				more = false
			}
		}
		h.publish(gen, v)
	}
}

// publish makes v's frame the latest, if gen is still the current watch.
func (h *hub) publish(gen int, v *view) {
	b, err := h.encode(v)
	if err != nil {
		h.root.Core().Logger().Error("observe: frame", "err", err)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen != h.gen {
		return
	}
	h.frame = b
	close(h.fresh)
	h.fresh = make(chan struct{})
}

// encode makes v's frame.
func (h *hub) encode(v *view) ([]byte, error) {
	h.frames.Add(1)
	return json.Marshal(v.frame(h.root))
}

func (h *hub) latest() ([]byte, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.frame, h.fresh
}

// serveFrame serves the latest frame, or with no watch running one made
// now.
func (h *hub) serveFrame(w http.ResponseWriter, _ *http.Request) {
	b, _ := h.latest()
	if b == nil {
		v := newView()
		v.sample(axon.Inspect(h.root), time.Now())
		var err error
		if b, err = h.encode(v); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
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
	fl.Flush()
	h.subscribe()
	defer h.unsubscribe()
	for {
		b, fresh := h.latest()
		if b != nil {
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			fl.Flush()
		}
		select {
		case <-fresh:
		case <-r.Context().Done():
			return
		case <-h.ctx.Done():
			return
		}
	}
}
