# kamaelia-go: `make test` is the suite CI runs; `make bench` prints the
# framework-vs-hand-written comparisons; `make build` builds the binary;
# `make tools` installs what the tests use beyond Go (socat), if it can;
# `make browser` installs chromium for the live page's browser test.
GO ?= go
PKGS := ./...

.PHONY: test tools browser fmt-check vet build bench fuzz clean

test: tools browser fmt-check vet
	$(GO) test -race -count=1 $(PKGS)
	# Allocation counts, which the race detector's pools would blur.
	$(GO) test -count=1 -run 'AllocateNothing' ./axon/

# socat is the other UDP implementation the cmd/pipeline tests talk to.
# .ci/apt-install installs it with apt-get when missing, if apt-get is
# there and we are root; otherwise those tests skip, as this says.
tools:
	@sh .ci/apt-install -p tools: socat; \
	case $$? in \
	1) echo "tools: note: could not install socat; the tests that use it will skip" ;; \
	2) echo "tools: note: socat is not installed (needs root and apt-get to install it here); the tests that use it will skip" ;; \
	esac

# Debian's chromium is the browser axon/observe's live-page test drives
# (through chromedp). Installed the same way as socat; without it that
# test skips, saying so.
browser:
	@sh .ci/apt-install -p browser: chromium; \
	case $$? in \
	1) echo "browser: note: could not install chromium; the live page's browser test will skip" ;; \
	2) echo "browser: note: chromium is not installed (needs root and apt-get to install it here); the live page's browser test will skip" ;; \
	esac

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
