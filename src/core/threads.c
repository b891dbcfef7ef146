/* Thread pool sizing for OpenMP and OpenBLAS together. */
#include "ic/threads.h"
#include <omp.h>
#include <unistd.h>

void openblas_set_num_threads(int num_threads);

void ic_threads_set(int n) {
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int ic_threads_get(void) { return omp_get_max_threads(); }
