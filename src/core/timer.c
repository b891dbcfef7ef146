/* Monotonic clock for benchmarks and progress rates. */
#include "ic/timer.h"
#include <time.h>
double ic_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
