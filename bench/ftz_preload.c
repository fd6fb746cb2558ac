/* Diagnostic only (scripts/bench.sh --ftz): an LD_PRELOAD shim that sets flush-to-zero and
 * denormals-are-zero (MXCSR bits 15 and 6) in the main thread before main() runs. Threads the
 * process creates later (libgomp's workers) inherit the main thread's MXCSR on Linux. The same
 * effect as torch::set_flush_denormal(true) called first thing, without touching the program.
 *   gcc -O2 -shared -fPIC -o ftz_preload.so bench/ftz_preload.c
 *   LD_PRELOAD=$PWD/ftz_preload.so build/bin/cvae train ... */
#include <xmmintrin.h>

__attribute__((constructor)) static void cvae_bench_ftz_daz(void) {
  _mm_setcsr(_mm_getcsr() | 0x8040u);
}
