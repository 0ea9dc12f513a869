# Everything a developer or CI runs. `make demo` and `make test` set up a fresh
# clone on their own (dependencies come from package-lock.json).

NODE_BIN := node_modules/.bin
CLI := node bin/privatetracer.js
DEPS := node_modules/.deps-installed

.PHONY: all deps demo test typecheck firmware mocha bench clean bench-sim bench-match bench-memory bench-sync bench-kiosk bench-dashboard bench-detection bench-warnings

all: firmware

$(DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: $(DEPS)

## The main job: build every board, then the simulated care home for 14 days with its figures
## (per token and overall: encounters, flash, retention, current, battery, close-contact detection), and its
## report with pictures in dist/demo-report.html (docs/demo-report.md).
demo: $(DEPS)
	$(CLI) build
	$(CLI) simulate --scenario care-home --days 14 --seed 1 --report dist/demo-report.html
	@echo "demo report (one HTML file, opens offline): $(CURDIR)/dist/demo-report.html"

## The whole test suite: licences, type check, lint and format check, firmware bundles (linted, within budget), mocha specs.
test: $(DEPS) licenses typecheck lint firmware mocha

## ESLint (typescript-eslint) and Prettier's check over every source file; `make format` rewrites them.
.PHONY: lint format
lint: $(DEPS)
	$(NODE_BIN)/eslint .
	$(NODE_BIN)/prettier --check --log-level warn "**/*.{ts,js,mjs}"

format: $(DEPS)
	$(NODE_BIN)/prettier --write --log-level warn "**/*.{ts,js,mjs}"

typecheck: $(DEPS)
	$(NODE_BIN)/tsc -p tsconfig.json --noEmit
	$(NODE_BIN)/tsc -p firmware/tsconfig.json --noEmit

## Licences of the production dependencies: each must let us ship it with our Apache-2.0 code
## (licenses-allowed.json: the accepted licences and the exceptions reviewed by hand).
.PHONY: licenses
licenses: $(DEPS)
	allowed=$$(node -p 'require("./licenses-allowed.json").licenses.join(";")') && test -n "$$allowed" && \
	skipped=$$(node -p '[require("./package.json").name, ...Object.keys(require("./licenses-allowed.json").exceptions)].join(";")') && \
	$(NODE_BIN)/license-checker-rseidelsohn --production --unknown --summary --onlyAllow "$$allowed" --excludePackages "$$skipped"

## `make firmware` builds every board; `make firmware BOARD=puckjs` one.
firmware: $(DEPS)
	$(CLI) build $(if $(BOARD),--board $(BOARD))

mocha: $(DEPS)
	$(NODE_BIN)/mocha

clean:
	rm -rf dist build

## Regenerate the board config's TypeScript type from board-configs/board.schema.json.
.PHONY: board-type
board-type: $(DEPS)
	node -r ts-node/register/transpile-only host-tools/src/build/board-type.ts

## Simulator budget: 50-token care home, 14 days (last line of output is JSON).
bench-sim: $(DEPS)
	node -r ts-node/register/transpile-only bench/sim.ts

## Detection over held-out seeds: tokens vs GAEN phones (rules and classifiers), mean and 95 % interval; last line is JSON.
bench-detection: $(DEPS)
	node -r ts-node/register/transpile-only bench/detection-seeds.ts $(ARGS)

## Warnings per level over held-out seeds (care home with its kiosk, 14 days): tokens' high and any level vs GAEN phones,
## precision, recall and near-miss precision, mean and 95 % interval, and pooled; last line is JSON.
bench-warnings: $(DEPS)
	node -r ts-node/register/transpile-only bench/warnings-seeds.ts $(ARGS)

## Matching throughput vs the node:crypto bound, 1 thread and all cores; last line is JSON.
bench-match: $(DEPS)
	node -r ts-node/register/transpile-only bench/match.ts

## Kiosk: index 1,000,000 published keys on all cores (vs the node:crypto bound), then match one token's 14-day
## history of ~10,000 sightings against it (goal: under a second a sync; bench/kiosk.ts --teks N for another size); last line is JSON.
bench-kiosk: $(DEPS)
	node -r ts-node/register/transpile-only bench/kiosk.ts

## Staff dashboard: 200 tokens with 60 syncs each; p50/p95 ms of the home page and a token's page over 200 requests
## (fastify inject), and each page's weight in KB; last line is JSON.
bench-dashboard: $(DEPS)
	node -r ts-node/register/transpile-only bench/dashboard.ts

## Log flooding: a token's real close contacts kept under a 30-hour flood of fresh RPIs (the token's scanner and log on a
## Puck.js Storage; it drives firmware modules directly, so it lives with the specs); last line is JSON.
.PHONY: bench-flood
bench-flood: $(DEPS)
	node -r ts-node/register/transpile-only test/sim/log-flood-bench.ts

## RAM budget: peak JsVars of the Puck.js firmware in the care home and at a 200-phone station; last line is JSON.
bench-memory: $(DEPS)
	node -r ts-node/register/transpile-only bench/memory.ts

## Sync: a full Puck.js log dumped over the emulated BLE link (BlueZ defaults and fastest), air bytes and token µAh per
## sync, 1,000 syncs cut at random and resumed byte-identical, 100,000 fuzzed frames at the token's link; last line is JSON.
bench-sync: $(DEPS)
	node -r ts-node/register/transpile-only bench/sync.ts
