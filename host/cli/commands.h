#ifndef SQ_COMMANDS_H
#define SQ_COMMANDS_H
#define SQ_CMD(name, summary) int sq_cmd_##name(int argc, char **argv);
#include "cli/commands.def"
#undef SQ_CMD
#endif
