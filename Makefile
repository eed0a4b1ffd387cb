# kamaelia-go: `make test` is the suite CI runs; `make bench` prints the
# framework-vs-hand-written comparisons; `make build` builds the binary;
# `make tools` installs what the tests use beyond Go (socat), if it can.
GO ?= go
PKGS := ./...

.PHONY: test tools fmt-check vet build bench fuzz clean

test: tools fmt-check vet
	$(GO) test -race -count=1 $(PKGS)

# socat is the other UDP implementation the cmd/pipeline tests talk to.
# It is installed with apt-get when missing, if apt-get is there and we
# are root (trying without `apt-get update` first, which a machine with
# package lists does not need); otherwise those tests skip, as this says.
tools:
	@command -v socat >/dev/null 2>&1 && exit 0; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "tools: installing socat with apt-get"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq socat >/dev/null 2>&1 || \
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq socat >/dev/null 2>&1; } || \
		echo "tools: note: could not install socat; the tests that use it will skip"; \
	else \
		echo "tools: note: socat is not installed (needs root and apt-get to install it here); the tests that use it will skip"; \
	fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

build:
	$(GO) build -o bin/pipeline ./cmd/pipeline

bench:
	$(GO) test -run '^$$' -bench . -benchtime=1x -count=1 -timeout=10m ./benchmarks/

clean:
	rm -rf bin
