package fragment

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
)

// An option given to a component that does not take it is refused by
// name, as an option out of range is.
func TestOptionsThatDoNotApply(t *testing.T) {
	if _, err := NewSplitter(MaxAge(time.Second)); !errors.Is(err, axon.ErrConfig) || !strings.Contains(err.Error(), "MaxAge") {
		t.Errorf("NewSplitter(MaxAge): %v, want ErrConfig naming MaxAge", err)
	}
	if _, err := NewReassembler(Rate(1000)); !errors.Is(err, axon.ErrConfig) || !strings.Contains(err.Error(), "Rate") {
		t.Errorf("NewReassembler(Rate): %v, want ErrConfig naming Rate", err)
	}
	if _, err := NewReassembler(Topics("a"), MaxMessage(10), MaxAge(time.Second), Budget(100), Clock(time.Now)); err != nil {
		t.Errorf("NewReassembler with options that apply: %v", err)
	}
}
