# make bootstrap  install what the tests need where missing (./scripts/bootstrap: redis-server, chromium, python3)
# make test       the whole suite (./scripts/test: gofmt, go vet, go test -race)
# make fuzz       every Fuzz target, FUZZTIME each (default 30s): make fuzz FUZZTIME=2m
# make fuzz-long  every Fuzz target for 5 minutes
# make bench      reproduce BENCHMARKS.md (bench/run.sh; under 10 minutes on 2 cores)

FUZZTIME ?= 30s

.PHONY: bootstrap test fuzz fuzz-long bench

bootstrap:
	./scripts/bootstrap

test:
	./scripts/test

fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz

fuzz-long:
	FUZZTIME=5m ./scripts/fuzz

bench:
	bench/run.sh
