# kamaelia-go: `make test` is the suite CI runs; `make bench` prints the
# framework-vs-hand-written comparisons; `make build` builds the binary.
GO ?= go
PKGS := ./...

.PHONY: test fmt-check vet build bench fuzz clean

test: fmt-check vet
	$(GO) test -race -count=1 $(PKGS)

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
