package nats

import (
	"net"
	"strconv"
)

// LocalURL returns the address of a NATS server on 127.0.0.1:port,
// "nats://127.0.0.1:PORT", as natsserver.Server.URL gives it.
func LocalURL(port int) string {
	return "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}
