# openshift_migration.velero - developer entry points.
# `make test` is what CI runs (.ci/run); `make demo` is the newcomer's first command.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VERSION := 0.1.0
PYTHON ?= python3.11
CACHE ?= $(HOME)/.cache/openshift-migration-velero
REQ_HASH := $(shell cat requirements.txt tests/requirements.txt | sha256sum | cut -c1-12)
VENV ?= $(CACHE)/venv-$(REQ_HASH)
BIN := $(VENV)/bin
BUILD := $(CURDIR)/.build
# pytest and ansible-playbook see the working tree through this symlinked collections root.
COLLECTIONS := $(BUILD)/collections
# ansible-test refuses symlinks, and inside this git tree it sees only tracked files of the
# checkout itself, so sanity runs on a copy outside the repository.
SANITY_BASE := $(CACHE)/sanity-$(shell echo $(CURDIR) | sha256sum | cut -c1-8)
SANITY_ROOT := $(SANITY_BASE)/ansible_collections/openshift_migration/velero
SITE_COLLECTIONS = $(shell $(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

# Debian packages the tests and the lab need (bindep.txt holds the run-time ones).
APT_PACKAGES := skopeo docker-registry apache2-utils openssl rsync curl

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOLOR := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv system-deps collection lint sanity units playbook-tests ee-check \
        integration molecule test demo demo-sample bench lab-build lab-up lab-down lab-status build clean

help:
	@echo "make demo   - start the local lab and migrate its sample application with migrate.yml"
	@echo "make demo-sample - the plugin filters on the sample data, without the lab"
	@echo "make test   - lint, sanity, unit, playbook and integration tests (what CI runs)"
	@echo "make bench  - benchmarks, printing ratios measured side by side"
	@echo "make lab-up / lab-down / lab-status - the local two-cluster lab (lab-build: binaries only)"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt tests/requirements.txt
	@mkdir -p $(CACHE)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -r tests/requirements.txt
	touch $@

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

collection: venv
	@mkdir -p $(COLLECTIONS)/ansible_collections/openshift_migration $(COLLECTIONS)/ansible_collections/kubernetes
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/openshift_migration/velero
	@ln -sfn $(SITE_COLLECTIONS)/ansible_collections/kubernetes/core $(COLLECTIONS)/ansible_collections/kubernetes/core

lint: collection
	$(BIN)/ruff check plugins tests
	$(BIN)/antsibull-changelog lint
	PATH=$(BIN):$$PATH $(BIN)/ansible-lint --nocolor -q

sanity: collection
	@mkdir -p $(SANITY_ROOT) $(SANITY_BASE)/ansible_collections/kubernetes
	rsync -a --delete --exclude .git --exclude .build --exclude tests/output --exclude tests/lab/state \
	  --exclude .ruff_cache --exclude .pytest_cache --exclude __pycache__ ./ $(SANITY_ROOT)/
	rm -rf $(SANITY_BASE)/ansible_collections/kubernetes/core
	cp -a $(SITE_COLLECTIONS)/ansible_collections/kubernetes/core $(SANITY_BASE)/ansible_collections/kubernetes/core
	@for version in 24.2 25.1 25.2 25.3; do \
	  cache=$(HOME)/.ansible/test/cache/get_pip_$${version//./_}.py; \
	  [ -f $$cache ] || { mkdir -p $$(dirname $$cache); cp tests/sanity/get_pip_offline.py $$cache; }; done
	cd $(SANITY_ROOT) && PATH=$(BIN):$$PATH ansible-test sanity --local --python 3.11 --color no $(SANITY_ARGS)

units: collection
	cd $(COLLECTIONS)/ansible_collections/openshift_migration/velero && \
	  PYTHONPATH=$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

playbook-tests: collection
	PATH=$(BIN):$$PATH ./tests/playbooks/run.sh

ee-check: collection
	PATH=$(BIN):$$PATH ./tests/ee/check.sh

# Brings the lab up (building its binaries on the first run), runs every integration test, and
# takes the lab down again whatever the outcome.
integration: collection system-deps
	@trap '$(CURDIR)/tests/lab/lab.sh down' EXIT; \
	PATH=$(BIN):$$PATH $(CURDIR)/tests/lab/lab.sh up && \
	cd $(COLLECTIONS)/ansible_collections/openshift_migration/velero && \
	  PYTHONPATH=$(COLLECTIONS) PATH=$(BIN):$$PATH $(BIN)/python -m pytest -q -p no:cacheprovider tests/integration && \
	  $(MAKE) -C $(CURDIR) --no-print-directory molecule

# One molecule scenario per role (extensions/molecule/), converged against the lab, which must be up.
# Each starts from a reset state, so its prepare step runs again and picks fresh names.
MOLECULE_SCENARIOS := backup restore migrate_stage migrate_final rollback
molecule: collection
	cd $(COLLECTIONS)/ansible_collections/openshift_migration/velero && \
	for scenario in $(MOLECULE_SCENARIOS); do \
	  NO_COLOR=1 PATH=$(BIN):$$PATH $(BIN)/molecule reset -s $$scenario >/dev/null && \
	  NO_COLOR=1 PATH=$(BIN):$$PATH $(BIN)/molecule test -s $$scenario || exit 1; done

test: lint sanity units playbook-tests ee-check integration

# Starts the lab (building it on the first run) and migrates its sample application with
# migrate.yml, ending with the summary. The lab stays up for a look around: make lab-down.
demo: lab-up
	$(BIN)/python tests/lab/migrate_vars.py $(BUILD)/demo-vars.json --name demo --map sample-app=sample-app-demo \
	  --report-dir $(BUILD)/demo-reports
	PATH=$(BIN):$$PATH ansible-playbook openshift_migration.velero.migrate -e @$(BUILD)/demo-vars.json

# The filters alone on the sample data, without the lab.
demo-sample: collection
	PATH=$(BIN):$$PATH ansible-playbook tests/demo/restore_sample.yml

lab-build:
	tests/lab/lab.sh build

lab-up: collection system-deps
	PATH=$(BIN):$$PATH tests/lab/lab.sh up

lab-down:
	tests/lab/lab.sh down

lab-status:
	tests/lab/lab.sh status

bench: collection system-deps
	cd $(COLLECTIONS)/ansible_collections/openshift_migration/velero && \
	  PYTHONPATH=$(COLLECTIONS) PATH=$(BIN):$$PATH $(BIN)/python -m tests.bench

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .

clean:
	rm -rf $(BUILD) tests/output
