package observe

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Fill levels, as the page colours an inbox: as NiFi colours a
// connection, green up to 60% full, yellow up to 85%, red beyond.
const (
	LevelGreen  = "green"
	LevelYellow = "yellow"
	LevelRed    = "red"
)

// Level names how full a box holding queued of capacity messages is.
func Level(queued, capacity int) string {
	if capacity <= 0 {
		return LevelGreen
	}
	switch f := float64(queued) / float64(capacity); {
	case f <= 0.60:
		return LevelGreen
	case f <= 0.85:
		return LevelYellow
	}
	return LevelRed
}

// view is what the page shows, kept up to date from a Watch: the last
// look at the graph, the rates between the last two samples, and the
// recent changes.
type view struct {
	snap  axon.Snapshot
	dirty bool // the graph changed since snap: look again before drawing

	// Rates, from the last two samples.
	at      time.Time
	arrived map[string]uint64 // path + "." + box -> messages arrived
	handled map[string]uint64 // path -> messages handled
	rates   map[string]float64

	paths map[uuid.UUID]string // the components of the last sample and since, by id: for the log
	log   []string
}

func newView() *view {
	return &view{arrived: map[string]uint64{}, handled: map[string]uint64{}, rates: map[string]float64{}, paths: map[uuid.UUID]string{}}
}

// apply takes in one event about the graph.
func (v *view) apply(e axon.Event) {
	switch e.Kind {
	case axon.EventSnapshot, axon.EventSample:
		v.sample(*e.Graph, e.Time)
		return
	case axon.EventAdded:
		v.learn(*e.Graph)
		v.note(e.Time, fmt.Sprintf("added %s", e.Path))
	case axon.EventRemoved:
		v.note(e.Time, fmt.Sprintf("removed %s", v.pathOf(e.Ref)))
	case axon.EventState:
		v.note(e.Time, fmt.Sprintf("%s %s", v.pathOf(e.Ref), e.State))
	}
	v.dirty = true
}

// learn records the paths of the components in s.
func (v *view) learn(s axon.Snapshot) {
	for _, c := range s.Components {
		v.paths[c.Ref.ID] = c.Path
	}
}

func (v *view) pathOf(r axon.Ref) string {
	if p, ok := v.paths[r.ID]; ok {
		return p
	}
	return r.String()
}

func (v *view) note(t time.Time, what string) {
	v.log = append(v.log, t.Format("15:04:05.000")+" "+what)
	if len(v.log) > logSize {
		v.log = v.log[len(v.log)-logSize:]
	}
}

// sample takes a fresh look at the graph and works out the rates since
// the one before.
func (v *view) sample(s axon.Snapshot, t time.Time) {
	dt := t.Sub(v.at).Seconds()
	arrived, handled := map[string]uint64{}, map[string]uint64{}
	rates := map[string]float64{}
	rate := func(key string, now uint64, before map[string]uint64) {
		if old, ok := before[key]; ok && dt > 0 && now >= old {
			rates[key] = float64(now-old) / dt
		}
	}
	for _, c := range s.Components {
		handled[c.Path] = c.Handled
		rate(c.Path, c.Handled, v.handled)
		for _, b := range c.Inboxes {
			k := c.Path + "." + b.Name
			arrived[k] = b.Arrived
			rate(k, b.Arrived, v.arrived)
		}
	}
	v.snap, v.dirty, v.at = s, false, t
	v.arrived, v.handled, v.rates = arrived, handled, rates
	// The paths of the components in this sample, and of those added
	// after it: Watch tells of no others, so those that have gone (a
	// Carousel's old children) are let go.
	v.paths = map[uuid.UUID]string{}
	v.learn(s)
}

// frame is what the page receives, as JSON.
type frame struct {
	Time       string      `json:"time"`
	Components []component `json:"components"`
	Links      []link      `json:"links"`
	Log        []string    `json:"log"`
}

type component struct {
	Path    string  `json:"path"`   // unique in the frame: the page's key
	Parent  string  `json:"parent"` // the parent's path, "" for the top
	Name    string  `json:"name"`
	State   string  `json:"state"`
	Handled uint64  `json:"handled"`
	Rate    float64 `json:"rate"` // messages handled a second
	Inboxes []inbox `json:"inboxes"`
}

type inbox struct {
	Name     string  `json:"name"`
	Queued   int     `json:"queued"`
	Capacity int     `json:"capacity"`
	Level    string  `json:"level"`
	Arrived  uint64  `json:"arrived"`
	Taken    uint64  `json:"taken"`
	Waits    uint64  `json:"waits"`
	Rate     float64 `json:"rate"` // messages arriving a second
}

type link struct {
	From    string `json:"from"`
	FromBox string `json:"fromBox"`
	To      string `json:"to"`
	ToBox   string `json:"toBox"`
}

// frame draws the view as the page wants it.
func (v *view) frame(root axon.Node) frame {
	if v.dirty {
		v.snap, v.dirty = axon.Inspect(root), false
		v.learn(v.snap)
	}
	s := v.snap
	f := frame{Time: time.Now().Format(time.RFC3339Nano), Log: v.log, Components: []component{}, Links: []link{}}
	path := make(map[uuid.UUID]string, len(s.Components))
	for _, c := range s.Components {
		path[c.Ref.ID] = c.Path
	}
	for _, c := range s.Components {
		fc := component{Path: c.Path, Name: c.Ref.Name, State: c.State, Handled: c.Handled, Rate: v.rates[c.Path], Inboxes: []inbox{}}
		if c.Parent != nil {
			fc.Parent = path[c.Parent.ID]
		}
		for _, b := range c.Inboxes {
			if b.Capacity == 0 {
				continue // passthrough-only
			}
			fc.Inboxes = append(fc.Inboxes, inbox{
				Name: b.Name, Queued: b.Queued, Capacity: b.Capacity, Level: Level(b.Queued, b.Capacity),
				Arrived: b.Arrived, Taken: b.Taken, Waits: b.Waits,
				Rate: v.rates[c.Path+"."+b.Name],
			})
		}
		f.Components = append(f.Components, fc)
	}
	for _, l := range s.Links {
		from, ok1 := path[l.From.ID]
		to, ok2 := path[l.To.ID]
		if l.Passthrough || !ok1 || !ok2 {
			continue
		}
		f.Links = append(f.Links, link{From: from, FromBox: l.FromBox, To: to, ToBox: l.ToBox})
	}
	return f
}
