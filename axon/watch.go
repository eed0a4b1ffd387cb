package axon

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// EventKind says what an Event reports.
type EventKind uint8

// The kinds of Event, in the order a watcher may first see them.
const (
	// EventSnapshot: Graph is the whole watched graph, topology and
	// metrics. It comes first, and again if the watcher fell too far
	// behind to be told every change (then it replaces all before it).
	EventSnapshot EventKind = iota
	// EventAdded: Graph holds the component added (Ref, under Parent)
	// and everything beneath it, with their links.
	EventAdded
	// EventRemoved: the component Ref and everything beneath it have
	// left the graph, with every link into or out of them.
	EventRemoved
	// EventState: the component Ref is now in State.
	EventState
	// EventLinked: Link was made.
	EventLinked
	// EventUnlinked: Link was removed.
	EventUnlinked
	// EventSample: Graph is the whole watched graph again, taken
	// periodically for its metrics.
	EventSample
)

var eventKindNames = [...]string{"snapshot", "added", "removed", "state", "linked", "unlinked", "sample"}

// String names the kind in lower case ("added", "state", ...).
func (k EventKind) String() string {
	if int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "unknown"
}

// Event is one thing a watcher is told about a graph (see Watch).
type Event struct {
	Kind EventKind
	Time time.Time
	// Graph: the whole graph (EventSnapshot, EventSample) or the part
	// added (EventAdded).
	Graph *Snapshot
	// Ref: the component added, removed or changing state.
	Ref Ref
	// Parent: where a component was added.
	Parent Ref
	// Path: Ref's path (see Component.Path) when the event happened.
	Path string
	// State: the new state (EventState).
	State string
	// Link: the link made or removed (EventLinked, EventUnlinked).
	Link LinkInfo
}

// watchQueueMax is how many events a watcher keeps for a reader that is
// behind; past it they are dropped and the reader gets a fresh snapshot.
const watchQueueMax = 4096

// watcher gathers the events of every graph; Watch's goroutine keeps
// those of its own graph.
type watcher struct {
	mu       sync.Mutex
	queue    []Event
	overflow bool
	wake     chan struct{}
}

// watchers are the watchers open in the process. Every hook loads it
// once: with none open, watching costs the graph nothing more.
var (
	watchers   atomic.Pointer[[]*watcher]
	watchersMu sync.Mutex
)

func addWatcher(w *watcher) {
	watchersMu.Lock()
	defer watchersMu.Unlock()
	var next []*watcher
	if p := watchers.Load(); p != nil {
		next = slices.Clone(*p)
	}
	next = append(next, w)
	watchers.Store(&next)
}

func removeWatcher(w *watcher) {
	watchersMu.Lock()
	defer watchersMu.Unlock()
	p := watchers.Load()
	if p == nil {
		return
	}
	next := slices.DeleteFunc(slices.Clone(*p), func(x *watcher) bool { return x == w })
	if len(next) == 0 {
		watchers.Store(nil)
		return
	}
	watchers.Store(&next)
}

// notify hands e, made by mk only if someone watches, to every watcher.
func notify(mk func() Event) {
	p := watchers.Load()
	if p == nil {
		return
	}
	e := mk()
	e.Time = time.Now()
	for _, w := range *p {
		w.push(e)
	}
}

func (w *watcher) push(e Event) {
	w.mu.Lock()
	if len(w.queue) >= watchQueueMax {
		w.overflow = true
		w.queue = w.queue[:0]
	}
	if !w.overflow {
		w.queue = append(w.queue, e)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// take returns the events queued, and whether some were dropped.
func (w *watcher) take() ([]Event, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	q, over := w.queue, w.overflow
	w.queue, w.overflow = nil, false
	return q, over
}

// stateChanged tells watchers c's new state. Called with c.mu held, so
// that one component's changes are queued in the order they happened.
func (c *Component) stateChanged() {
	notify(func() Event { return Event{Kind: EventState, Ref: c.Ref(), State: c.stateName()} })
}

// notifyAdded tells watchers k was added under c. Called with linkMu held.
func notifyAdded(c, k *Component) {
	notify(func() Event {
		path, step := k.pathStepLocked()
		var g Snapshot
		g.walk(k, path, step)
		return Event{Kind: EventAdded, Ref: k.Ref(), Parent: c.Ref(), Path: path, Graph: &g}
	})
}

// notifyRemoved tells watchers k is being removed from its parent.
// Called with linkMu held.
func notifyRemoved(k *Component) {
	notify(func() Event { return Event{Kind: EventRemoved, Ref: k.Ref(), Path: k.pathLocked()} })
}

// notifyLink tells watchers of a link made or removed. Called with linkMu
// held.
func notifyLink(kind EventKind, from *Component, fromBox string, to *Component, toBox string, pass bool) {
	notify(func() Event {
		return Event{Kind: kind, Link: LinkInfo{From: from.Ref(), FromBox: fromBox, To: to.Ref(), ToBox: toBox, Passthrough: pass}}
	})
}

// Watch reports on the graph beneath n (n included) until ctx ends, when
// the channel is closed: first an EventSnapshot of its topology and
// metrics as it is now, then every change as it happens (components
// added and removed, links made and removed, states changed) and, every
// period, an EventSample with fresh metrics. A component that is added,
// runs and ends between two samples is still reported: each step is an
// event. Events that follow the snapshot may repeat what it shows;
// applied in order they leave the picture right.
//
// The reader must keep up or cancel ctx. A reader that falls more than a
// few thousand events behind is sent a fresh EventSnapshot in place of
// the events it missed. n may be built or running; Watch works on a
// graph that has ended too, reporting its last state.
func Watch(ctx context.Context, n Node, period time.Duration) <-chan Event {
	root := n.Core()
	w := &watcher{wake: make(chan struct{}, 1)}
	out := make(chan Event, 64)
	linkMu.Lock()
	addWatcher(w)
	snap := inspectLocked(root)
	linkMu.Unlock()
	go w.run(ctx, root, snap, period, out)
	return out
}

// run is the goroutine of a Watch: it keeps track of which components
// belong to the watched graph and passes on their events.
func (w *watcher) run(ctx context.Context, root *Component, snap Snapshot, period time.Duration, out chan<- Event) {
	defer close(out)
	defer removeWatcher(w)
	tick := time.NewTicker(max(period, time.Millisecond))
	defer tick.Stop()
	m := members{}
	send := func(e Event) bool {
		select {
		case out <- e:
			return true
		case <-ctx.Done():
			return false
		}
	}
	whole := func(kind EventKind, s Snapshot) bool {
		m.reset(s)
		return send(Event{Kind: kind, Time: time.Now(), Graph: &s})
	}
	if !whole(EventSnapshot, snap) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if !whole(EventSample, Inspect(root)) {
				return
			}
		case <-w.wake:
			q, over := w.take()
			if over {
				if !whole(EventSnapshot, Inspect(root)) {
					return
				}
				continue
			}
			for _, e := range q {
				if m.keep(e) && !send(e) {
					return
				}
			}
		}
	}
}

// members is the set of components a watcher reports on, each with its
// parent, so that removing one removes what is beneath it.
type members map[uuid.UUID]uuid.UUID

func (m members) reset(s Snapshot) {
	clear(m)
	m.add(s)
}

func (m members) add(s Snapshot) {
	for _, c := range s.Components {
		var p uuid.UUID
		if c.Parent != nil {
			p = c.Parent.ID
		}
		m[c.Ref.ID] = p
	}
}

// keep applies e to the set and reports whether it is about the watched
// graph.
func (m members) keep(e Event) bool {
	switch e.Kind {
	case EventAdded:
		if _, ok := m[e.Parent.ID]; !ok {
			return false
		}
		m.add(*e.Graph)
		return true
	case EventRemoved:
		if _, ok := m[e.Ref.ID]; !ok {
			return false
		}
		m.drop(e.Ref.ID)
		return true
	case EventState:
		_, ok := m[e.Ref.ID]
		return ok
	case EventLinked, EventUnlinked:
		_, from := m[e.Link.From.ID]
		_, to := m[e.Link.To.ID]
		return from || to
	}
	return true
}

// drop removes id and everything beneath it.
func (m members) drop(id uuid.UUID) {
	delete(m, id)
	for k, p := range m {
		if p == id {
			m.drop(k)
		}
	}
}
