#ifndef SQ_COMMANDS_H
#define SQ_COMMANDS_H
#define SQ_CMD(name, summary) int sq_cmd_##name(int argc, char **argv);
#define SQ_CMD_RANKS SQ_CMD
#include "cli/commands.def"
#undef SQ_CMD_RANKS
#undef SQ_CMD
#endif
