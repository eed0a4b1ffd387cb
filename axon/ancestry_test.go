package axon_test

import (
	"errors"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
)

func TestAncestorAsChildRefused(t *testing.T) {
	a, b, c := axon.New("A", nil), axon.New("B", nil), axon.New("C", nil)
	if err := a.AddChild(b); err != nil {
		t.Fatal(err)
	}
	if err := b.AddChild(c); err != nil {
		t.Fatal(err)
	}
	if err := c.AddChild(a); !errors.Is(err, axon.ErrBadLink) {
		t.Fatalf("making an ancestor a child: %v", err)
	}
}
