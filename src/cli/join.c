/* join.c - `sluice join FILE` (cli/join.h). */
#include "cli/join.h"

#include "common/log.h"
#include "output/join.h"

int join_command(const struct join_opts *o)
{
    const struct join_request rq = {.output = o->output, .keep_parts = o->keep_parts};
    struct join_result res;
    int code = join_run(&rq, &res);
    if (code) {
        log_error("%s", res.error);
        return code;
    }
    if (res.already)
        log_info("%s: nothing left to do (already %s)", o->output,
                 o->keep_parts ? "indexed" : "joined");
    else
        log_info("%s: %u parts, %llu rows, %llu bytes", o->output, res.parts,
                 (unsigned long long)res.rows, (unsigned long long)res.bytes);
    return 0;
}
