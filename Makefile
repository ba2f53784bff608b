# make test       the whole suite (./scripts/test: gofmt, go vet, go test -race)
# make fuzz       every Fuzz target, FUZZTIME each (default 30s): make fuzz FUZZTIME=2m
# make fuzz-long  every Fuzz target for 5 minutes

FUZZTIME ?= 30s

.PHONY: test fuzz fuzz-long

test:
	./scripts/test

fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz

fuzz-long:
	FUZZTIME=5m ./scripts/fuzz
