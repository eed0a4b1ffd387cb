package observe

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kamaelia-go/kamaelia/axon"
)

// Label names. Labels are bounded: a component is named by its path in
// the graph (axon.Component.Path), never by its id, so that a Carousel's
// successive children, say, add no new series.
const (
	labelPath  = "path"
	labelBox   = "box"
	labelState = "state"
)

var (
	inboxLabels = []string{labelPath, labelBox}

	descQueued = prometheus.NewDesc("kamaelia_inbox_queued_messages",
		"Messages waiting in the inbox now.", inboxLabels, nil)
	descCapacity = prometheus.NewDesc("kamaelia_inbox_capacity_messages",
		"How many messages the inbox holds before senders wait.", inboxLabels, nil)
	descArrived = prometheus.NewDesc("kamaelia_inbox_arrived_messages_total",
		"Messages put into the inbox.", inboxLabels, nil)
	descTaken = prometheus.NewDesc("kamaelia_inbox_taken_messages_total",
		"Messages taken out of the inbox by its reader.", inboxLabels, nil)
	descWaits = prometheus.NewDesc("kamaelia_inbox_send_waits_total",
		"Sends that found the inbox full and waited for room (backpressure).", inboxLabels, nil)
	descSent = prometheus.NewDesc("kamaelia_outbox_sent_messages_total",
		"Messages delivered through the outbox.", inboxLabels, nil)
	descHandled = prometheus.NewDesc("kamaelia_component_handled_messages_total",
		"Messages taken from the component's inboxes other than control.", []string{labelPath}, nil)
	descState = prometheus.NewDesc("kamaelia_component_state",
		"1 for the state the component is in (built, running, ended, failed), 0 for the others.", []string{labelPath, labelState}, nil)
)

var states = []string{axon.StateBuilt, axon.StateRunning, axon.StateEnded, axon.StateFailed}

// Collector is a prometheus.Collector of one graph's metrics: every inbox
// that holds messages (passthrough-only boxes hold none and are left
// out), every outbox, every component. Each scrape takes an
// axon.Inspect of the graph.
type Collector struct {
	root axon.Node
}

// NewCollector returns a Collector of the graph beneath n, n included.
func NewCollector(n axon.Node) *Collector { return &Collector{root: n} }

// Describe sends the descriptions of every metric the collector makes.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueued, descCapacity, descArrived, descTaken, descWaits, descSent, descHandled, descState} {
		ch <- d
	}
}

// Collect sends the graph's metrics as they are now.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := axon.Inspect(c.root)
	for _, ci := range s.Components {
		p := ci.Path
		for _, b := range ci.Inboxes {
			if b.Capacity == 0 {
				continue // passthrough-only: holds nothing
			}
			ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, float64(b.Queued), p, b.Name)
			ch <- prometheus.MustNewConstMetric(descCapacity, prometheus.GaugeValue, float64(b.Capacity), p, b.Name)
			ch <- prometheus.MustNewConstMetric(descArrived, prometheus.CounterValue, float64(b.Arrived), p, b.Name)
			ch <- prometheus.MustNewConstMetric(descTaken, prometheus.CounterValue, float64(b.Taken), p, b.Name)
			ch <- prometheus.MustNewConstMetric(descWaits, prometheus.CounterValue, float64(b.Waits), p, b.Name)
		}
		for _, b := range ci.Outboxes {
			ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(b.Sent), p, b.Name)
		}
		ch <- prometheus.MustNewConstMetric(descHandled, prometheus.CounterValue, float64(ci.Handled), p)
		for _, st := range states {
			v := 0.0
			if st == ci.State {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, v, p, st)
		}
	}
}
