package main

import (
	"flag"
	"time"

	"github.com/kamaelia-go/kamaelia/axon"
	"github.com/kamaelia-go/kamaelia/chassis"
	"github.com/kamaelia-go/kamaelia/util"
)

// restartOptions are the limits of the supervisor --restart puts over a
// protocol handler: more than 10 restarts within 10 seconds and the
// handler's failure ends the command after all (exit 1).
var restartOptions = []chassis.SupervisorOption{chassis.Intensity(10, 10*time.Second)}

// declareRestart declares --restart on fs.
func declareRestart(fs *flag.FlagSet) *bool {
	return fs.Bool("restart", false,
		"restart the protocol handler when it fails or panics, instead of ending: what it failed on is dropped and reported on standard error (more than 10 restarts in 10s end the command)")
}

// echoReply makes udp-echo's REPLY stage (a variable, so that a test can
// make one that fails).
var echoReply = func() axon.Node { return util.PureTransformer(echo) }
