# pakn — the two commands that matter are `make run` and `make test`.
.PHONY: run test vault build bench fuzz screenshots clean-data

run: ## bring up PostgreSQL + Vault, migrate, bootstrap, seed, serve on 127.0.0.1:8080
	tools/run.sh

test: ## go vet + go test -race against real PostgreSQL and Vault
	tools/test.sh

vault: ## build (once) the development Vault server
	tools/stack.sh vault-bin

build:
	go build -o bin/paknd ./cmd/paknd
	go build -o bin/pakn ./cmd/pakn

screenshots: ## the website's pages as the browser tests see them (.cache/screenshots/; the README's in docs/screenshots/)
	tools/screenshots.sh

bench: ## durable submissions vs pgbench, audit verification, signing through Vault, verification vs pdfsig
	tools/bench.sh

fuzz: ## every Fuzz target for FUZZTIME each (default 5m); TARGET=FuzzVerify for one
	FUZZTIME=$(FUZZTIME) TARGET=$(TARGET) tools/fuzz.sh

clean-data: ## delete local state (database, Vault, dev keys) — irreversible
	-tools/stack.sh vault-down .data/vault
	-tools/stack.sh pg-destroy .data/pg
	rm -rf .data certs/*.pem
