package multicast

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
)

// A component whose construction failed declares the boxes, and the types
// they carry, of the one that works, so that a graph wiring it builds (and
// then fails on start with the construction's error).
func TestFailedHasTheBoxesOfTheWorkingOne(t *testing.T) {
	boxes := func(c *axon.Component) map[string]reflect.Type {
		m := make(map[string]reflect.Type)
		for _, b := range c.Inboxes() {
			m["in "+b.Name()] = b.Type()
		}
		for _, b := range c.Outboxes() {
			m["out "+b.Name()] = b.Type()
		}
		return m
	}
	for _, k := range []kind{sender, receiver, transceiver} {
		t.Run(k.String(), func(t *testing.T) {
			p, _ := build(k, group4(t).String(), []Option{Interface("lo")})
			if err := p.Err(); err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			f := failed(k, "239.0.0.1:1", "configure", errors.New("no"))
			if got, want := boxes(f.Core()), boxes(p.Core()); !reflect.DeepEqual(got, want) {
				t.Errorf("failed %s has boxes %v, want %v", k, got, want)
			}
		})
	}
}
