# The lab's make targets (included from the top-level Makefile). See lab/README.md.
# Expects PYTHON ?= .venv/bin/python and VENV ?= .venv from the including Makefile.
LAB := lab/lab
LAB_PYTEST ?= $(VENV)/bin/pytest
LAB_TEST_ARGS ?=

.PHONY: lab-image lab-image-cloud lab-image-boot lab-test lab-clean lab-status demo-lab-up demo-lab-down

# Build (or restore from the compressed cache) the guest images; a no-op when cached.
# The gce profile boots the cloud kernel; noncompliant needs the generic one (e1000, AHCI);
# gce-agent is the cloud image with Debian's guest environment.
lab-image-cloud:
	$(LAB) image --variant cloud

lab-image: lab-image-cloud
	$(LAB) image --variant generic
	$(LAB) image --variant gce-agent

# Bootable disks (GRUB; `lab up --disk`): only the tests that boot them need these, not the demo.
lab-image-boot:
	$(LAB) image --variant boot-bios
	$(LAB) image --variant boot-uefi

# Boot gce (user + tap) and noncompliant guests and assert their hardware from inside.
# Images are prepared first so their build time is not counted inside pytest. The boots of
# the bootable disks (tests/lab/test_boot.py, marked full_boot) run in `make test-disk-full`.
lab-test: lab-image
	@mkdir -p build/results
	$(LAB_PYTEST) -q tests/lab -m "not full_boot" --junitxml=build/results/lab.xml $(LAB_TEST_ARGS)

# Safety net: stop every guest of the checkout's lab state dir (by recorded PID).
lab-clean:
	$(LAB) down --all

lab-status:
	$(LAB) status

# One gce guest for the demo; its inventory is written to .lab/inventory.yml.
demo-lab-up: lab-image-cloud
	$(LAB) up --profile gce --name demo

demo-lab-down:
	-$(LAB) down demo
