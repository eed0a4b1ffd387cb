package backplane

import (
	"os/exec"
	"strings"
	"testing"
)

// The in-process Backplane links no NATS client: the NATS transports
// live in package natsbackplane, which imports this one, never the other
// way round. Nor does a program using only it (testdata/localonly).
func TestNoNATSClient(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	for _, pkg := range []string{".", "./testdata/localonly"} {
		out, err := exec.Command(goCmd, "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for dep := range strings.FieldsSeq(string(out)) {
			if strings.HasPrefix(dep, "github.com/nats-io/") || strings.HasPrefix(dep, "github.com/kamaelia-go/kamaelia/components/nats") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
