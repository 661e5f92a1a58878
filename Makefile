# SPDX-License-Identifier: GPL-2.0
#
# Entry points:
#   make            build gpio-virtio.ko for KDIR (default: the running kernel)
#   make install    install it into updates/ and run depmod
#   make check      W=1, sparse and checkpatch --strict on every supported kernel
#   make upstream-patch  the patch that replaces the kernel's driver with ours
#                   (.cache/upstream/0001-*.patch, against linux-source-7.2)
#   make test       the whole test suite (DRIVER=ours|intree, KERNELS="6.1 6.12 7.2")
#   make mutants    the driver with one deliberate defect at a time, booted
#                   with the suites that must notice (MUTANTS="NAME ...")
#   make bench      our driver against the in-tree one, figures and ratios
#   make demo       boot a guest with a simulated board and show the driver at work
#   make shell      the same guest with an interactive shell

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(CURDIR)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null || true
	$(MAKE) -C tests/sim clean
	$(MAKE) -C tests/guest clean

install: modules
	$(MAKE) -C $(KDIR) M=$(PWD) INSTALL_MOD_DIR=updates modules_install
	depmod -a $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null || uname -r)

deps:
	scripts/install-deps.sh

check: deps
	scripts/check.sh $(KERNELS)

upstream-patch:
	scripts/upstream-patch.sh

test: deps
	KERNELS="$(KERNELS)" DRIVER="$(DRIVER)" SUITES="$(SUITES)" tests/run.sh

mutants: deps
	scripts/mutants.sh $(MUTANTS)

bench: deps
	KERNELS="$(KERNELS)" scripts/bench.sh

demo: deps
	scripts/demo.sh

shell: deps
	scripts/demo.sh --shell

.PHONY: all modules clean install deps check upstream-patch test mutants bench demo shell
