# The independent oracle the tests run with TEST_DEFS' Python (tests/oracle.py).
# Included by the top Makefile.
$(BUILD)/san/tests/testutil.o: CFLAGS_SAN += -DSQ_ORACLE_PY='"$(abspath tests/oracle.py)"'
