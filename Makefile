# guestready.gce: developer entry points.  `make help` lists them.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= $(VENV)/bin/python
BIN := $(VENV)/bin
COLLECTION_LINK := .ansible/collections/ansible_collections/guestready/gce
SANITY_ROOT := build/ansible_collections/guestready/gce
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.ansible/collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# The parts `make test` runs, in order (each is a `test-<part>` target).
TEST_PARTS ?= unit sanity lint package lab image disk guest molecule bench

.PHONY: help venv collection-link docs test unit sanity lint molecule demo build clean bench bench-fleet bench-image fuzz \
	$(addprefix test-,$(TEST_PARTS))

help:
	@echo "make demo     boot a Compute-Engine-like lab guest, harden and verify it, show the results"
	@echo "make test     every test: $(TEST_PARTS)"
	@echo "make unit | sanity | lint | molecule | lab-test   one part"
	@echo "make docs     regenerate docs/requirements.md from the catalogue"
	@echo "make fuzz     the parsers' fuzz tests with 10,000 inputs per property"
	@echo "make build    build the Galaxy tarball into build/"

$(BIN)/activate: requirements-dev.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/activate

# Make this checkout importable as guestready.gce (ansible, pytest, molecule).
collection-link: $(COLLECTION_LINK)
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

docs: venv
	$(PYTHON) tools/gen_requirements_doc.py

test: venv collection-link
	$(PYTHON) tools/run_tests.py $(TEST_PARTS)

unit: test-unit
test-unit: venv collection-link
	$(BIN)/pytest -q tests/unit --junitxml=build/results/unit.xml

# The parsers' fuzz tests with 10,000 generated inputs per property (make test
# runs the same properties with a short, fixed set of inputs).
fuzz: venv collection-link
	GUESTREADY_FUZZ=long $(BIN)/pytest -q tests/unit -k fuzz -p no:cacheprovider

# ansible-test wants the tree at .../ansible_collections/guestready/gce and
# downloads a pip bootstrap script from a host we cannot reach: give it an
# offline stand-in, and a copy of the collection's files (lab excluded: it is
# not collection content and stays out of the tarball too).
sanity: test-sanity
test-sanity: venv
	@pipv=$$($(PYTHON) -c "import re,os,ansible_test as t;p=os.path.join(os.path.dirname(t.__file__),'_internal/python_requirements.py');print(re.search(r\"pip='([0-9.]+)'\",open(p).read()).group(1).replace('.','_'))"); \
	  mkdir -p ~/.ansible/test/cache && cp tools/get_pip_offline.py ~/.ansible/test/cache/get_pip_$$pipv.py
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	git ls-files -co --exclude-standard | grep -v -e '^lab/' -e '^molecule/' -e '^tests/lab/' -e '^\.venv$$' \
	  | while read -r f; do [ -e "$$f" ] && echo "$$f"; done | tar -cf - -T - | tar -xf - -C $(SANITY_ROOT)
	cd $(SANITY_ROOT) && git init -q . && $(CURDIR)/$(BIN)/ansible-test sanity --venv --python 3.11 --color no

lint: test-lint
test-lint: venv collection-link
	$(BIN)/ansible-lint --offline -q

molecule: test-molecule
test-molecule: venv collection-link lab-image
	$(PYTHON) tools/run_molecule.py $(SCENARIOS)

test-lab: venv lab-test

# Checks on the lab images' own kernel files and disk_image on the bootable ones, no guest booted.
test-image: venv collection-link lab-image lab-image-boot
	$(BIN)/pytest -q tests/image --junitxml=build/results/image.xml

# Boot as imported (issue 15): packed disk images booted by their own boot loader in the lab.
test-disk: venv collection-link lab-image-boot
	$(BIN)/pytest -q -s tests/disk --junitxml=build/results/disk.xml

# Tests that drive lab guests with ansible-playbook (fault injection).
test-guest: venv collection-link lab-image
	$(BIN)/pytest -q -s tests/guest --junitxml=build/results/guest.xml

# The Galaxy tarball installs and documents every module from its installed location.
test-package: venv
	$(BIN)/pytest -q tests/package --junitxml=build/results/package.xml

# One-guest smoke run of the benchmark: module counts and idempotence, no timings asserted.
test-bench: venv collection-link lab-image-cloud
	$(PYTHON) tests/bench/bench.py --smoke

# Disk images (issue 15): the audit of a 2 GiB image and pack against plain `tar -Sczf`, ratios printed.
bench-image: venv collection-link lab-image-boot
	$(PYTHON) tests/bench/image_bench.py $(IMAGE_BENCH_ARGS)

# The published run (about 1.5 h under TCG on 2 cores: 8 guests first, the 22-task
# alternatives once each, the looped one up to 4 guests); BENCH_ARGS= for the full default.
BENCH_ARGS ?= --sizes 8:1,4:1,1:3 --slow-repeat 1 --loop-max-guests 4
bench: venv collection-link lab-image-cloud
	$(PYTHON) tests/bench/bench.py $(BENCH_ARGS) --write-docs

# Fleet scale on one controller: N local hosts, each with its own copy of the lab
# image tree, verify/harden against ping (docs/benchmarks.md).
FLEET_ARGS ?= --sizes 1,100,500
bench-fleet: venv collection-link lab-image-cloud
	$(PYTHON) tests/bench/fleet_bench.py $(FLEET_ARGS) --write-docs

demo: venv collection-link lab-image-cloud
	$(PYTHON) tools/demo.py

build: venv
	mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build .

clean:
	rm -rf build tests/output .ansible .pytest_cache

-include lab/lab.mk
