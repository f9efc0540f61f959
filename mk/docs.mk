# SPDX-License-Identifier: MIT
# Reference documentation: the API reference built from the public headers
# by Doxygen (Doxyfile), the man pages in man/, and the guides' examples.
#
#   make docs         build/docs/html; fails on any Doxygen warning, such as
#                     an undocumented public function
#   make check-docs   docs, then man/check.sh: every man page renders
#                     without a groff warning and names exactly its
#                     program's options, an undocumented function does fail
#                     make docs, and the guides' examples compile and run
#   make install-man / uninstall-man  (prerequisites of install / uninstall)

DOCS_OUT := build/docs

.PHONY: docs docs-deps check-docs check-docs-deps install-man uninstall-man

docs-deps:
	@SGAD_DEPS_EXTRA=doxygen sh tools/install-deps.sh

# groff and man render the pages; numpy runs the Python guide's example,
# matplotlib and Fashion-MNIST the tutorial's.
check-docs-deps:
	@SGAD_DEPS_EXTRA="doxygen groff-base man-db python3-numpy python3-matplotlib dataset-fashion-mnist" \
	    sh tools/install-deps.sh

docs: docs-deps
	@mkdir -p $(DOCS_OUT)
	SGAD_VERSION=$(VERSION) doxygen Doxyfile
	@echo "docs: $(DOCS_OUT)/html/index.html"

# The programs are built in the recipe, where PROGRAMS is complete: the
# fragments after this one (eval, nir, similarity) add to it after this
# rule's prerequisites were read.
check-docs: check-docs-deps docs lib
	$(MAKE) --no-print-directory $(PROGRAM_BINS)
	sh man/check.sh $(BUILD)/programs $(LIBOUT) "$(PROGRAMS)"

# Every page of man/ by glob, so a program's new page is installed with it.
install-man:
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(wildcard man/*.7) $(DESTDIR)$(MANDIR)/man7/

uninstall-man:
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(wildcard man/*.1)) \
	    $(patsubst man/%,$(DESTDIR)$(MANDIR)/man7/%,$(wildcard man/*.7))
