# Paths the tests need beyond TEST_DEFS: the project's Python (numpy) and the
# independent oracle it runs (tests/oracle.py). Included by the top Makefile.
$(BUILD)/san/tests/testutil.o: CFLAGS_SAN += \
  -DSQ_PYTHON='"$(abspath $(PYTHON))"' -DSQ_ORACLE_PY='"$(abspath tests/oracle.py)"'
