package axon_test

import (
	"testing"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/components/backplane"
	"github.com/kamaelia-go/kamaelia/components/framing"
	"github.com/kamaelia-go/kamaelia/components/nats"
	"github.com/kamaelia-go/kamaelia/components/transfer"
	"github.com/kamaelia-go/kamaelia/internet/simulate"
	"github.com/kamaelia-go/kamaelia/internet/tcp"
	"github.com/kamaelia-go/kamaelia/internet/udp"
	"github.com/kamaelia-go/kamaelia/util"
)

// Every package speaks axon's words for the same things: one "errors" box
// name, one ErrBadMessage and one ErrConfig, so errors.Is against axon's
// sorts any package's errors.
func TestOneVocabulary(t *testing.T) {
	for pkg, name := range map[string]string{
		"backplane": backplane.ErrorsBox, "framing": framing.ErrorsBox, "nats": nats.ErrorsBox,
		"transfer": transfer.ErrorsBox, "simulate": simulate.ErrorsBox, "tcp": tcp.ErrorsBox,
		"udp": udp.ErrorsBox, "util": util.ErrorsBox,
	} {
		if name != axon.ErrorsName {
			t.Errorf("%s.ErrorsBox = %q, want axon.ErrorsName (%q)", pkg, name, axon.ErrorsName)
		}
	}
	for pkg, err := range map[string]error{
		"framing": framing.ErrBadMessage, "nats": nats.ErrBadMessage, "transfer": transfer.ErrBadMessage,
		"simulate": simulate.ErrBadMessage, "tcp": tcp.ErrBadMessage, "udp": udp.ErrBadMessage,
	} {
		if err != axon.ErrBadMessage {
			t.Errorf("%s.ErrBadMessage is not axon.ErrBadMessage", pkg)
		}
	}
	for pkg, err := range map[string]error{
		"framing": framing.ErrConfig, "nats": nats.ErrConfig, "transfer": transfer.ErrConfig, "backplane": backplane.ErrConfig, "backplane (ErrBadOption)": backplane.ErrBadOption,
		"simulate": simulate.ErrConfig, "tcp": tcp.ErrConfig, "udp": udp.ErrConfig,
	} {
		if err != axon.ErrConfig {
			t.Errorf("%s.ErrConfig is not axon.ErrConfig", pkg)
		}
	}
}
