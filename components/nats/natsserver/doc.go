// Package natsserver runs a NATS server inside the process, on
// 127.0.0.1, for demos and tests: `pipeline nats-demo` uses it, and
// natstest wraps it for tests. It is a package of its own so that a
// program using the NATS components, or only the in-process Backplane,
// does not link the server (nats-server and what it needs add about 7 MB
// to a binary).
package natsserver
