package axon

import (
	"testing"
	"unsafe"
)

// TestInboxLayout guards the hop's cache-line layout (see Component):
// the default inbox starts a cache line within the component, and the
// fields written on every batch fall on that line. (Go's size classes
// above 512 bytes are multiples of 64, so a component itself starts a
// line.)
func TestInboxLayout(t *testing.T) {
	const line = 64
	var c Component
	in := unsafe.Offsetof(c.defIn)
	if in%line != 0 {
		t.Errorf("defIn at offset %d, not on a %d-byte line: move the fields before it after the boxes", in, line)
	}
	var b Inbox
	for name, off := range map[string]uintptr{"ch": unsafe.Offsetof(b.ch), "st": unsafe.Offsetof(b.st), "spill": unsafe.Offsetof(b.spill)} {
		if off >= line {
			t.Errorf("Inbox.%s at offset %d, past the box's first cache line", name, off)
		}
	}
}
