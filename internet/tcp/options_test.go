package tcp_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/axon/axontest"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
)

// An option that does not apply to the component it is given to makes it
// fail when started, naming the option, instead of being ignored.
func TestOptionsThatDoNotApplyAreRefused(t *testing.T) {
	ctx := axontest.Context(t)
	a, b := net.Pipe()
	defer b.Close()
	for _, c := range []struct {
		name   string
		node   axon.Node
		option string
	}{
		{"Client", tcp.Client("127.0.0.1:9", tcp.MaxConnections(3)), "MaxConnections"},
		{"Server", tcp.Server("127.0.0.1:0", func(tcp.ConnInfo) axon.Node { return nil }, tcp.DialTimeout(time.Second)), "DialTimeout"},
		{"SingleServer", tcp.SingleServer("127.0.0.1:0", tcp.MaxConnections(1)), "MaxConnections"},
		{"Wrap", tcp.Wrap(a, tcp.Dialer(&net.Dialer{})), "Dialer"},
	} {
		err := axon.Run(ctx, c.node)
		if !errors.Is(err, axon.ErrConfig) || !errors.Is(err, tcp.ErrConfig) || !strings.Contains(err.Error(), c.option) {
			t.Errorf("%s given %s: Run returned %v, want ErrConfig naming the option", c.name, c.option, err)
		}
	}
	// The options that apply are taken.
	srv := tcp.Server("127.0.0.1:0", func(tcp.ConnInfo) axon.Node { return nil },
		tcp.Name("S"), tcp.MaxConnections(2), tcp.ReadChunk(1024), tcp.KeepAlive(time.Second), tcp.NoDelay(true))
	if err := srv.Err(); err != nil {
		t.Fatalf("Server with options that apply: %v", err)
	}
	h := axontest.Start(t, ctx, srv)
	h.Stop()
	axontest.Wait(t, h)
}
