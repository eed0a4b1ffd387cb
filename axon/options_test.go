package axon_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
)

// An option that does not apply is refused by name; those that apply
// pass, however often given.
func TestOptionSetRefuses(t *testing.T) {
	var s axon.OptionSet
	s.Mark("Name")
	s.Mark("Name")
	if err := s.Refuse("Client", "Name", "DialTimeout"); err != nil {
		t.Fatalf("Refuse with every option applying: %v", err)
	}
	s.Mark("MaxConnections")
	err := s.Refuse("Client", "Name", "DialTimeout")
	if !errors.Is(err, axon.ErrConfig) || !strings.Contains(err.Error(), "MaxConnections") || !strings.Contains(err.Error(), "Client") {
		t.Fatalf("Refuse: %v, want ErrConfig naming MaxConnections and Client", err)
	}
}
