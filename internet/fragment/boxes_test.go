package fragment

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// Each box that carries one Go type says so, so that Link checks it.
func TestBoxTypes(t *testing.T) {
	b, l := Broadcaster(), Listener()
	for _, c := range []struct {
		box  string
		got  reflect.Type
		want reflect.Type
	}{
		{"Broadcaster.inbox", b.Inbox(axon.InboxName).Type(), nil}, // []byte, string or Message
		{"Broadcaster.outbox", b.Outbox(axon.OutboxName).Type(), reflect.TypeFor[[]byte]()},
		{"Broadcaster.errors", b.Outbox(axon.ErrorsName).Type(), reflect.TypeFor[error]()},
		{"Listener.inbox", l.Inbox(axon.InboxName).Type(), reflect.TypeFor[udp.Datagram]()},
		{"Listener.outbox", l.Outbox(axon.OutboxName).Type(), reflect.TypeFor[Message]()},
		{"Listener.errors", l.Outbox(axon.ErrorsName).Type(), reflect.TypeFor[error]()},
	} {
		if c.got != c.want {
			t.Errorf("%s carries %v, want %v", c.box, c.got, c.want)
		}
	}
	// A Broadcaster linked straight to a Listener, without the transport
	// between them, is refused when the graph is built.
	if err := axon.Link(b, axon.OutboxName, l, axon.InboxName); !errors.Is(err, axon.ErrTypeMismatch) {
		t.Errorf("Link(Broadcaster.outbox, Listener.inbox) = %v, want ErrTypeMismatch", err)
	}
}
