package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kamaelia-go/kamaelia/internet/udp"
)

// boundLine matches the line a command prints once it has bound.
var boundLine = regexp.MustCompile(`(?m)^listening on `)

// Bad flags are usage errors: the command's usage on stderr, exit 2, and
// nothing bound or run.
func TestUDPUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string // on stderr
	}{
		{"peer without -to", []string{"udp-peer"}, "-to is required"},
		{"peer bad -to", []string{"udp-peer", "--to", "127.0.0.1"}, `-to "127.0.0.1": want host:port`},
		{"peer -to port 0", []string{"udp-peer", "--to", "127.0.0.1:0"}, "port 0 cannot be sent to"},
		{"peer -to no host", []string{"udp-peer", "--to", ":1500"}, `-to ":1500"`},
		{"peer bad -listen", []string{"udp-peer", "--listen", "nonsense", "--to", "127.0.0.1:9"}, `-listen "nonsense": want host:port`},
		{"peer -listen bad port", []string{"udp-peer", "--listen", "127.0.0.1:99999", "--to", "127.0.0.1:9"}, `-listen "127.0.0.1:99999"`},
		{"peer bad -format", []string{"udp-peer", "--to", "127.0.0.1:9", "--format", "xml"}, `-format "xml": want text, raw or json`},
		{"peer bad -linger", []string{"udp-peer", "--to", "127.0.0.1:9", "--linger", "soon"}, `invalid value "soon" for flag -linger`},
		{"peer negative -linger", []string{"udp-peer", "--to", "127.0.0.1:9", "--linger", "-1s"}, "-linger -1s: must not be negative"},
		{"peer argument", []string{"udp-peer", "--to", "127.0.0.1:9", "extra"}, `unexpected argument "extra"`},
		{"targets without -to", []string{"udp-targets"}, "-to is required"},
		{"targets bad receiver", []string{"udp-targets", "--to", "127.0.0.1:9,nope"}, `-to "nope"`},
		{"targets empty receiver", []string{"udp-targets", "--to", "127.0.0.1:9, "}, `-to ""`},
		{"targets -every 0", []string{"udp-targets", "--to", "127.0.0.1:9", "--every", "0s"}, "-every 0s: must be more than 0"},
		{"targets bad -every", []string{"udp-targets", "--to", "127.0.0.1:9", "--every", "often"}, `invalid value "often" for flag -every`},
		{"postbox bad -format", []string{"udp-postbox", "--format", "TEXT"}, `-format "TEXT"`},
		{"postbox unknown flag", []string{"udp-postbox", "--to", "127.0.0.1:9"}, "flag provided but not defined: -to"},
		{"echo bad -listen", []string{"udp-echo", "--listen", "[::1]"}, `-listen "[::1]"`},
		{"echo no -linger", []string{"udp-echo", "--linger", "1s"}, "flag provided but not defined: -linger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := invoke(t, "", tc.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if boundLine.MatchString(stderr) {
				t.Errorf("it bound a socket:\n%s", stderr)
			}
			for _, w := range []string{"pipeline " + tc.args[0] + ": ", tc.want, usagePointer(tc.args[0])} {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// Binding an address in use is an error naming the address: exit 1.
func TestUDPAddressInUse(t *testing.T) {
	taken := localAddr(listenUDP(t, "127.0.0.1:0")).String()
	for _, args := range [][]string{
		{"udp-peer", "--listen", taken, "--to", "127.0.0.1:9"},
		{"udp-targets", "--listen", taken, "--to", "127.0.0.1:9"},
		{"udp-postbox", "--listen", taken},
		{"udp-echo", "--listen", taken},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, stdout, stderr := invoke(t, "", args...)
			if code != exitFailure {
				t.Errorf("exit code %d, want %d", code, exitFailure)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			for _, w := range []string{"pipeline " + args[0] + ": ", taken, "address already in use"} {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "Usage:") || boundLine.MatchString(stderr) {
				t.Errorf("stderr:\n%s\nwant the error alone", stderr)
			}
		})
	}
}

func TestParsePostboxLine(t *testing.T) {
	good := []struct {
		line string
		want udp.Packet
	}{
		{"127.0.0.1:1500 hello", udp.Packet{To: netip.MustParseAddrPort("127.0.0.1:1500"), Data: []byte("hello")}},
		{"127.0.0.1:1500  two  spaces ", udp.Packet{To: netip.MustParseAddrPort("127.0.0.1:1500"), Data: []byte(" two  spaces ")}},
		{"[::1]:9 v6", udp.Packet{To: netip.MustParseAddrPort("[::1]:9"), Data: []byte("v6")}},
		{"[::ffff:127.0.0.1]:9 mapped", udp.Packet{To: netip.MustParseAddrPort("127.0.0.1:9"), Data: []byte("mapped")}},
		{"myserver.com:1500 by name", udp.Packet{Host: "myserver.com:1500", Data: []byte("by name")}},
		{"127.0.0.1:1500 ", udp.Packet{To: netip.MustParseAddrPort("127.0.0.1:1500"), Data: []byte{}}},
		{"127.0.0.1:1500", udp.Packet{To: netip.MustParseAddrPort("127.0.0.1:1500"), Data: []byte{}}},
		{"h:1 \x00\xff", udp.Packet{Host: "h:1", Data: []byte("\x00\xff")}},
	}
	for _, tc := range good {
		got, err := parsePostboxLine(tc.line)
		if err != nil || got.To != tc.want.To || got.Host != tc.want.Host || string(got.Data) != string(tc.want.Data) || got.Data == nil {
			t.Errorf("parsePostboxLine(%q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
	for _, line := range []string{
		"", " payload", "hello", "127.0.0.1 hello", "127.0.0.1: hello", ":1500 hello",
		"127.0.0.1:http hello", "127.0.0.1:65536 x", "127.0.0.1:0 x", "host:0 x", "::1:9 x", "[::1 x",
	} {
		if got, err := parsePostboxLine(line); !errors.Is(err, errBadLine) {
			t.Errorf("parsePostboxLine(%q) = %+v, %v; want an error wrapping errBadLine", line, got, err)
		}
	}
}

// FuzzParsePostboxLine checks parsePostboxLine on any line: it does not
// panic; what it accepts is a destination the peers take, with a port,
// and the rest of the line after the first space exactly; what it refuses
// is reported as a bad line. Seeds are in
// testdata/fuzz/FuzzParsePostboxLine; run more with
//
//	go test -fuzz FuzzParsePostboxLine ./cmd/pipeline/
func FuzzParsePostboxLine(f *testing.F) {
	for _, seed := range []string{"127.0.0.1:1500 hello", "[::1]:9 x y", "name:1", "", " ", "a b", "[::1]:0 z"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p, err := parsePostboxLine(line)
		if err != nil {
			if !errors.Is(err, errBadLine) {
				t.Fatalf("%q: error %v does not wrap errBadLine", line, err)
			}
			if p.To.IsValid() || p.Host != "" || p.Data != nil {
				t.Fatalf("%q: error %v with a packet %+v", line, err, p)
			}
			return
		}
		dest, payload, _ := strings.Cut(line, " ")
		if string(p.Data) != payload {
			t.Fatalf("%q: payload %q, want %q", line, p.Data, payload)
		}
		target, err := udp.ParseTarget(dest)
		if err != nil {
			t.Fatalf("%q: accepted a destination the peers refuse: %v", line, err)
		}
		switch {
		case p.To.IsValid():
			if p.Host != "" || p.To != target.Addr || p.To.Port() == 0 {
				t.Fatalf("%q: packet %+v for target %+v", line, p, target)
			}
		case p.Host != "":
			_, port, err := net.SplitHostPort(p.Host)
			if n, _ := strconv.Atoi(port); err != nil || n == 0 || p.Host != dest || target.Addr.IsValid() {
				t.Fatalf("%q: packet %+v for target %+v", line, p, target)
			}
		default:
			t.Fatalf("%q: packet %+v has no destination", line, p)
		}
	})
}

// --format text prints, through fmt as a ConsoleEchoer does, each line
// of the payload (less one trailing newline) after the sender, with
// control characters escaped, whatever the payload and sender.
func TestTextFormat(t *testing.T) {
	show, err := datagramFormat(formatText)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		data, from, want string
	}{
		{"hello", "127.0.0.1:1500", "127.0.0.1:1500 hello\n"},
		{"line\n", "[::1]:9", "[::1]:9 line\n"},
		{"crlf\r\n", "10.0.0.1:65535", "10.0.0.1:65535 crlf\n"},
		{"two\n\n", "127.0.0.1:1", "127.0.0.1:1 two\n127.0.0.1:1 \n"},
		{"a\r\nb\nc", "127.0.0.1:1", "127.0.0.1:1 a\n127.0.0.1:1 b\n127.0.0.1:1 c\n"},
		{"cr only\r", "127.0.0.1:1", `127.0.0.1:1 cr only\x0d` + "\n"},
		{"", "[fe80::1%eth0]:1500", "[fe80::1%eth0]:1500 \n"},
		{"\n", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%a-long-interface-name]:65535",
			"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%a-long-interface-name]:65535 \n"},
		{"\x00\xff bin\tary \x1b[2J \u0085", "[::ffff:127.0.0.1]:80", `[::ffff:127.0.0.1]:80 \x00` + "\xff bin\tary " + `\x1b[2J \u0085` + "\n"},
	} {
		d := udp.Datagram{Data: []byte(tc.data), From: netip.MustParseAddrPort(tc.from)}
		if got := fmt.Sprint(show(d)); got != tc.want {
			t.Errorf("%q from %v printed as %q, want %q", tc.data, tc.from, got, tc.want)
		}
	}
	if got := show("not a datagram"); got != "not a datagram" {
		t.Errorf("a string came out as %v", got)
	}
}
