# The distributed layer (host/dist/dist.h) has two implementations; one is
# linked. host/dist/dist.c (launch detection) is a plain library source.
#   MPI=1  Open MPI (host/dist/mpi/), compiled and linked with the flags its
#          mpicc wrapper reports (Debian: libopenmpi-dev)
#   MPI=0  one process (host/dist/none/)
# Default: 1 when mpicc is installed. `make MPI=0` builds without MPI even
# when it is there; every suite except the multi-rank checks still runs.
ifndef MPI
  MPI := $(if $(shell command -v mpicc 2>/dev/null),1,0)
endif
ifeq ($(MPI),1)
  ifeq ($(shell command -v mpicc 2>/dev/null),)
    $(error MPI=1 needs Open MPI's mpicc: apt-get install libopenmpi-dev, or ./scripts/deps.sh)
  endif
  DIST_IMPL    := host/dist/mpi/dist_mpi
  DIST_CFLAGS  := $(shell mpicc --showme:compile)
  DIST_LDLIBS  := $(shell mpicc --showme:link)
else
  DIST_IMPL    := host/dist/none/dist_none
endif
EXTRA_LDLIBS += $(DIST_LDLIBS)
DIST_OBJS := $(BUILD)/rel/$(DIST_IMPL).o $(BUILD)/san/$(DIST_IMPL).o
REL_EXTRA += $(BUILD)/rel/$(DIST_IMPL).o
SAN_EXTRA += $(BUILD)/san/$(DIST_IMPL).o
# MPI's headers are a system library's: -isystem keeps their warnings out of -Werror.
$(DIST_OBJS): CFLAGS_REL += $(patsubst -I%,-isystem %,$(DIST_CFLAGS))
$(DIST_OBJS): CFLAGS_SAN += $(patsubst -I%,-isystem %,$(DIST_CFLAGS))
# A change of MPI= rewrites this stamp, which rebuilds the chosen object and
# so relinks the binaries (each choice has its own object file, which would
# otherwise look up to date).
DIST_STAMP := $(BUILD)/dist-mpi-choice
$(shell mkdir -p $(BUILD) && [ "$$(cat $(DIST_STAMP) 2>/dev/null)" = "$(MPI)" ] || echo $(MPI) > $(DIST_STAMP))
$(DIST_OBJS): $(DIST_STAMP)

# dist_check: the layer alone over mpirun ranks (tests/test_dist.c runs it).
DIST_CHECK_OBJS := $(BUILD)/san/tests/dist_check.o $(BUILD)/san/host/dist/dist.o \
  $(BUILD)/san/$(DIST_IMPL).o $(BUILD)/san/host/util/err.o $(BUILD)/san/host/util/sanitize.o
$(BUILD)/san/dist_check: $(DIST_CHECK_OBJS)
	$(CC) $(SANITIZE) $^ -o $@ $(DIST_LDLIBS)
TEST_PREREQS += $(BUILD)/san/dist_check
$(BUILD)/san/tests/test_dist.o: CFLAGS_SAN += -DSQ_DIST_CHECK_BIN='"$(abspath $(BUILD)/san/dist_check)"'
