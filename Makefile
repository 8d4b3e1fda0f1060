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

# The ansible-core version matrix: the newest line (requirements-dev.txt, $(VENV)) runs every
# part; each older line gets build/venv-<line> (tests/matrix/ansible-<line>.txt) and runs the
# unit tests, ansible-test sanity and one lab smoke run (parts unit-<line> sanity-<line> smoke-<line>).
MATRIX ?= 2.16 2.17 2.18

# The parts `make test` runs, in order (each is a `test-<part>` target).  Parts joined
# with + run two at a time (tools/run_tests.py): each keeps about one core busy.
PARTS := unit sanity lint package lab image disk guest molecule bench
empty :=
space := $(empty) $(empty)
# The lab part waits on its guests with one core mostly idle once the image part ends: the
# matrix's sanity and unit parts (pytest and ansible-test, one core each) fill it.
TEST_PARTS ?= unit+sanity lint+package \
	$(subst $(space),+,lab image $(foreach line,$(MATRIX),sanity-$(line) unit-$(line))) \
	disk+guest molecule \
	$(subst $(space),+,bench $(foreach line,$(MATRIX),smoke-$(line)))

.PHONY: help deps venv matrix-venvs collection-link docs test unit sanity lint molecule demo build ee-context \
	clean bench bench-fleet bench-reports bench-image bench-profile fuzz test-deps test-disk-full $(addprefix test-,$(PARTS))
# (the matrix parts are pattern rules, which make never applies to .PHONY targets)

help:
	@echo "make demo     boot a Compute-Engine-like lab guest, harden and verify it, show the results"
	@echo "make test     every test: $(TEST_PARTS)"
	@echo "make unit | sanity | lint | molecule | lab-test   one part (test-<part> for any part above)"
	@echo "make deps     install the system packages demo and test need (tools/install_deps.sh)"
	@echo "make test-deps   the dependency step in a fresh Debian 12 chroot (minutes; not in make test)"
	@echo "make test-disk-full   every boot of the lab's bootable disks (about 20 min; not in make test)"
	@echo "make docs     regenerate docs/requirements.md from the catalogue"
	@echo "make fuzz     the parsers' fuzz tests with 10,000 inputs per property"
	@echo "make build    build the Galaxy tarball into build/"
	@echo "make ee-context   an Execution Environment build context in build/ee/context"
	@echo "make bench-reports   the report benchmark: 10,000 synthetic hosts, the page in headless Chromium"

# System packages: tools/install_deps.sh holds the one list; a no-op when all are installed.
deps:
	@tools/install_deps.sh

$(BIN)/activate: requirements-dev.txt | deps
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/activate

# One virtualenv per older ansible-core line of the matrix.
.PRECIOUS: build/venv-%/bin/activate
build/venv-%/bin/activate: tests/matrix/ansible-%.txt | deps
	rm -rf build/venv-$*
	python3 -m venv build/venv-$*
	build/venv-$*/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

matrix-venvs: $(foreach line,$(MATRIX),build/venv-$(line)/bin/activate)

# Make this checkout importable as guestready.gce (ansible, pytest, molecule).
collection-link: $(COLLECTION_LINK)
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

docs: venv
	$(PYTHON) tools/gen_requirements_doc.py

# Parts that run side by side must not build the same lab image or virtualenv at once:
# with any group, those are built first.
GROUP_PREREQS := lab-image lab-image-boot $(foreach line,$(MATRIX),build/venv-$(line)/bin/activate)
test: deps venv collection-link $(if $(findstring +,$(TEST_PARTS)),$(GROUP_PREREQS))
	$(PYTHON) tools/run_tests.py $(TEST_PARTS)

unit: test-unit
test-unit: venv collection-link
	$(BIN)/pytest -q tests/unit --junitxml=build/results/unit.xml

# The parsers' fuzz tests with 10,000 generated inputs per property (make test
# runs the same properties with a short, fixed set of inputs).
fuzz: venv collection-link
	GUESTREADY_FUZZ=long $(BIN)/pytest -q tests/unit -k fuzz -p no:cacheprovider

# The older lines leave out what does not touch ansible-core: module_utils' own tests (the guest
# side: standard library only) and the hostile-tree sweep (the same module runs, every input
# kind; its modules' runs on each line are covered by tests/unit/plugins/modules).
MATRIX_UNIT_ARGS ?= --ignore=tests/unit/plugins/module_utils --ignore=tests/unit/plugins/modules/test_hostile_sweep.py
test-unit-%: build/venv-%/bin/activate collection-link
	build/venv-$*/bin/pytest -q tests/unit $(MATRIX_UNIT_ARGS) --junitxml=build/results/unit-$*.xml

# ansible-test wants the tree at .../ansible_collections/guestready/gce and
# downloads a pip bootstrap script from a host we cannot reach: give it an
# offline stand-in, and a copy of the collection's files (lab excluded: it is
# not collection content and stays out of the tarball too).  It runs with
# HOME=build/ansible-test-home: its cache and virtualenvs stay out of the
# user's ~/.ansible/test.  $(1): the virtualenv's bin directory, $(2): the copy,
# $(3): more ansible-test arguments, $(4): a suffix of its HOME (one per line: lines run side by side).
SANITY_HOME := $(CURDIR)/build/ansible-test-home
SANITY_ARGS ?=
# The older lines skip the style linters (same code, same findings: they run on the newest
# line with its newer pylint; pylint is the slowest sanity test); every check that depends on the ansible-core line runs
# (validate-modules, ansible-doc, import, compile, runtime-metadata, action-plugin-docs...).
MATRIX_SANITY_ARGS ?= --skip-test pylint --skip-test pep8 --skip-test yamllint --skip-test shellcheck --skip-test pslint
define ansible-test-sanity
	@pipv=$$($(1)/python -c "import re,os,ansible_test as t;p=os.path.join(os.path.dirname(t.__file__),'_internal/python_requirements.py');print(re.search(r\"pip='([0-9.]+)'\",open(p).read()).group(1).replace('.','_'))"); \
	  mkdir -p $(SANITY_HOME)$(4)/.ansible/test/cache && cp tools/get_pip_offline.py $(SANITY_HOME)$(4)/.ansible/test/cache/get_pip_$$pipv.py
	rm -rf $(2) && mkdir -p $(2)
	git ls-files -co --exclude-standard | grep -v -e '^lab/' -e '^molecule/' -e '^tests/lab/' \
	  | while read -r f; do [ -e "$$f" ] && echo "$$f"; done | tar -cf - -T - | tar -xf - -C $(2)
	cd $(2) && git init -q . && HOME=$(SANITY_HOME)$(4) $(CURDIR)/$(1)/ansible-test sanity --venv --python 3.11 --color no $(SANITY_ARGS) $(3)
endef

sanity: test-sanity
test-sanity: venv
	$(call ansible-test-sanity,$(BIN),$(SANITY_ROOT))

test-sanity-%: build/venv-%/bin/activate
	$(call ansible-test-sanity,build/venv-$*/bin,build/sanity-$*/ansible_collections/guestready/gce,$(MATRIX_SANITY_ARGS),-$*)

# ansible-lint; the changelog fragments (antsibull-changelog); the modules' code against
# the oldest managed-host Python (vermin: syntax and standard-library use, 3.7).
lint: test-lint
test-lint: venv collection-link
	$(BIN)/ansible-lint --offline -q
	$(BIN)/antsibull-changelog lint
	$(BIN)/vermin --no-tips --violations -t=3.7- plugins/modules plugins/module_utils

molecule: test-molecule
test-molecule: venv collection-link lab-image
	$(PYTHON) tools/run_molecule.py $(SCENARIOS)

test-lab: venv lab-test

# Checks on the lab images' own kernel files and disk_image on the bootable ones, no guest booted.
test-image: venv collection-link lab-image lab-image-boot
	$(BIN)/pytest -q tests/image --junitxml=build/results/image.xml

# Boot as imported (issue 15): the packed good image booted by its own boot loader in the lab.
test-disk: venv collection-link lab-image-boot
	$(BIN)/pytest -q -s tests/disk -m "not full_boot" --junitxml=build/results/disk.xml

# Every boot through a disk's own boot loader (not in make test: minutes per TCG boot): the
# broken images really not booting, and the lab's SeaBIOS, OVMF and restart boots.
test-disk-full: venv collection-link lab-image-boot
	$(BIN)/pytest -q -s tests/disk --junitxml=build/results/disk-full.xml
	$(BIN)/pytest -q tests/lab/test_boot.py tests/lab/test_zz_cleanup.py --junitxml=build/results/disk-full-lab.xml

# Tests that drive lab guests with ansible-playbook (fault injection).
test-guest: venv collection-link lab-image
	$(BIN)/pytest -q -s tests/guest --junitxml=build/results/guest.xml

# The Galaxy tarball installs and documents every module from its installed location.
test-package: venv
	$(BIN)/pytest -q tests/package --junitxml=build/results/package.xml

# One older ansible-core line against one gce lab guest: harden.yml, then verify.yml --check.
test-smoke-%: build/venv-%/bin/activate collection-link lab-image-cloud
	GUESTREADY_MATRIX_LINE=$* build/venv-$*/bin/pytest -q -s tests/matrix --junitxml=build/results/smoke-$*.xml

# The dependency step in a fresh Debian 12 chroot (tests/deps/test_deps_chroot.py).
test-deps: venv
	$(BIN)/pytest -q -s tests/deps --junitxml=build/results/deps.xml

# One-guest smoke run of the benchmark: module counts and idempotence, no timings asserted;
# and the report benchmark on 200 synthetic hosts (its files and page checked, no timings).
test-bench: venv collection-link lab-image-cloud
	$(PYTHON) tests/bench/bench.py --smoke
	$(PYTHON) tests/bench/report_bench.py --smoke

# Disk images (issue 15): the audit of a 2 GiB image and pack against plain `tar -Sczf`, ratios printed.
bench-image: venv collection-link lab-image-boot
	$(PYTHON) tests/bench/image_bench.py $(IMAGE_BENCH_ARGS)

# The published run (about 1.5 h under TCG on 2 cores: 8 guests first, the 22-task
# alternatives once each, the looped one up to 4 guests); BENCH_ARGS= for the full default.
BENCH_ARGS ?= --sizes 8:1,4:1,1:3 --slow-repeat 1 --loop-max-guests 4
bench: venv collection-link lab-image-cloud
	$(PYTHON) tests/bench/bench.py $(BENCH_ARGS) --write-docs

# Reports for 10,000 synthetic hosts (and 100, the baseline) and the page in headless
# Chromium; no guest.  Writes the numbers into docs/benchmarks.md ("Reports").
bench-reports: venv collection-link
	$(PYTHON) tests/bench/report_bench.py --write-docs

# Fleet scale on one controller: N local hosts, each with its own copy of the lab
# image tree, verify/harden against ping (docs/benchmarks.md).
FLEET_ARGS ?= --sizes 1,100,500
bench-fleet: venv collection-link lab-image-cloud
	$(PYTHON) tests/bench/fleet_bench.py $(FLEET_ARGS) --write-docs

# Where verify.yml spends its time: one lab guest, the module execution broken down on the
# guest (interpreter, payload, imports, each area, cProfile), the report play on the controller.
PROFILE_ARGS ?= --repeat 3
bench-profile: venv collection-link lab-image-cloud
	$(PYTHON) tests/bench/profile_verify.py $(PROFILE_ARGS) --write-docs

demo: deps venv collection-link lab-image-cloud
	$(PYTHON) tools/demo.py

build: venv
	mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build .

# An Execution Environment build context (docs/ee, README "AWX and Execution Environments"):
# `ansible-builder create` into build/ee/context; building the image is podman's job.
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
ee-context: build
	rm -rf build/ee && mkdir -p build/ee
	cp docs/ee/execution-environment.yml docs/ee/requirements.yml build/ee/
	cp build/guestready-gce-$(VERSION).tar.gz build/ee/guestready-gce.tar.gz
	$(BIN)/ansible-builder create --file build/ee/execution-environment.yml --context build/ee/context \
	  --output-filename Containerfile

clean:
	rm -rf build tests/output .ansible .pytest_cache .hypothesis

-include lab/lab.mk
