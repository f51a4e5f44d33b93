# Every target calls a script under ci/, so CI and laptops run the same thing.
.PHONY: all fmt lint test bench

all: test

fmt:
	bash ci/fmt.sh

lint:
	bash ci/lint.sh

test:
	bash ci/test.sh

bench:
	bash ci/bench.sh
