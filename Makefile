# ic — instrument classification in C.  Plain Makefile; toggles at the top.
#   make          build the library and every program into bin/
#   make test     build and run every Check suite (tests/test_*.c, one binary each)
#   make bench    speed benchmarks, results in benchmarks/RESULTS.md
#   make demo     run the main job on the shipped model and bundled examples
#   make deps     install missing Debian packages (non-interactive apt-get)
#   SANITIZE=1    build everything with -fsanitize=address,undefined into build-san/

CC       ?= gcc
OPT      ?= -O2
SANITIZE ?= 0
DEB_PACKAGES = build-essential pkg-config libopenblas-dev libsndfile1-dev libcjson-dev \
               zlib1g-dev check libsamplerate0-dev libavformat-dev libavcodec-dev \
               libswresample-dev libavutil-dev libpng-dev libfluidsynth-dev \
               fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont espeak-ng

ifeq ($(SANITIZE),1)
  BUILD    := build-san
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  OPT      := -O1 -g
else
  BUILD    := build
  SANFLAGS :=
endif
BIN := bin
ifeq ($(SANITIZE),1)
  BIN := $(BUILD)/bin
endif

# Recursive (=) on purpose: pkg-config runs when a recipe needs the flags, i.e. after
# `make deps` has installed the packages on a fresh machine, not when make starts.
PKGS      = sndfile libcjson zlib check samplerate libavformat libavcodec libswresample libavutil libpng fluidsynth
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Wno-unused-parameter -fopenmp \
            -Iinclude -I/usr/include/x86_64-linux-gnu/openblas-pthread \
            $$(pkg-config --cflags $(PKGS)) $(SANFLAGS) -MMD -MP
LDLIBS   += $$(pkg-config --libs $(PKGS)) -lopenblas -lm -fopenmp $(SANFLAGS)

LIB_SRC  := $(wildcard src/*/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libic.a
PROG_SRC := $(wildcard train/*.c infer/*.c)
PROGS    := $(patsubst %.c,$(BIN)/%,$(notdir $(PROG_SRC)))
TEST_SRC := $(wildcard tests/test_*.c)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC:= $(wildcard benchmarks/bench_*.c)
BENCHES  := $(BENCH_SRC:benchmarks/%.c=$(BUILD)/benchmarks/%)

.PHONY: all deps test test-san bench demo clean dataset model
.DEFAULT_GOAL := all

all: deps-check $(PROGS)

# Install missing Debian packages; quiet and quick when everything is present.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

# deps-check runs deps once per build tree (stamp), so plain `make` stays fast.
deps-check: $(BUILD)/.deps-stamp
$(BUILD)/.deps-stamp: Makefile
	@$(MAKE) --no-print-directory deps
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/%.o: %.c | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	ar rcs $@ $^

$(BIN)/%: $(BUILD)/train/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $< $(LIB) $(LDLIBS) -o $@
$(BIN)/%: $(BUILD)/infer/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	$(CC) $< $(LIB) $(LDLIBS) -o $@
$(BUILD)/benchmarks/%: $(BUILD)/benchmarks/%.o $(LIB)
	$(CC) $< $(LIB) $(LDLIBS) -o $@

# Every suite runs even when one fails; the target fails if any did.
test: deps-check $(PROGS) $(TESTS)
	@fail=0; for t in $(TESTS); do \
	  echo "== $$t"; IC_BIN=$(BIN) IC_BUILD=$(BUILD) $$t || fail=1; \
	done; \
	if [ $$fail = 0 ]; then echo "ALL TESTS PASSED"; else echo "SOME TESTS FAILED"; exit 1; fi

test-san:
	$(MAKE) SANITIZE=1 test

bench: deps-check $(BENCHES) $(PROGS)
	./benchmarks/run.sh

demo: deps-check $(PROGS) $(BUILD)/tests/test_net
	./examples/demo.sh

# Render the standard NSynth-format dataset into datasets/out/nsynth-gm (resumable).
dataset: deps-check $(PROGS)
	ICSYNTH=$(BIN)/icsynth ./datasets/make_dataset.sh

# Reproduce the shipped model end to end: render, cache, train, evaluate.
model: deps-check $(PROGS)
	BIN=$(BIN) ./train/make_model.sh

clean:
	rm -rf build build-san bin

-include $(LIB_OBJ:.o=.d) $(TESTS:=.d) $(BENCHES:=.d) $(PROG_SRC:%.c=$(BUILD)/%.d)
.SECONDARY:
