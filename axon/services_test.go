package axon_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
)

func TestServices(t *testing.T) {
	var r axon.Registry
	hub := axon.New("Hub", nil)
	if err := r.Register("hub", hub, "inbox"); err != nil {
		t.Fatal(err)
	}
	err := r.Register("hub", axon.New("Other", nil), "inbox")
	if !errors.Is(err, axon.ErrServiceExists) || !strings.Contains(err.Error(), "Hub#") {
		t.Fatalf("duplicate name: %v", err)
	}
	if err := r.Register("bad", hub, "nope"); !errors.Is(err, axon.ErrNoSuchBox) {
		t.Fatalf("unknown inbox: %v", err)
	}
	s, err := r.Lookup("hub")
	if err != nil || s.Component != hub || s.Inbox != "inbox" {
		t.Fatalf("lookup: %+v, %v", s, err)
	}
	// A looked-up service is linked to like any inbox.
	client := axon.New("Client", nil)
	if err := axon.Link(client, "outbox", s.Component, s.Inbox); err != nil {
		t.Fatal(err)
	}
	if err := client.TrySend("outbox", "hello"); err != nil {
		t.Fatal(err)
	}
	if got := <-hub.In("inbox"); got != "hello" {
		t.Fatalf("got %v", got)
	}
	if got := r.Names(); len(got) != 1 || got[0] != "hub" {
		t.Fatalf("names %v", got)
	}
	if err := r.Deregister("hub"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Lookup("hub"); !errors.Is(err, axon.ErrNoService) {
		t.Fatalf("after deregister: %v", err)
	}
	if err := r.Deregister("hub"); !errors.Is(err, axon.ErrNoService) {
		t.Fatalf("deregister twice: %v", err)
	}
}
